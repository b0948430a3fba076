package dial_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/dial"
)

// replica is a gRPC server answering grpc.health.v1 and counting the calls it served.
type replica struct {
	addr   string
	server *grpc.Server
	calls  atomic.Int64
}

func startReplica(t *testing.T, addr string) *replica {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{addr: lis.Addr().String()}
	r.server = grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		r.calls.Add(1)
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(r.server, health.NewServer())
	go func() { _ = r.server.Serve(lis) }()
	t.Cleanup(r.server.Stop)
	return r
}

// conn dials, as a peer, a target that resolves to every replica's address, as a
// headless Service's DNS name does.
func conn(t *testing.T, replicas ...*replica) healthpb.HealthClient {
	return connAs(t, (*dial.Dialer).Peer, replicas...)
}

func connAs(t *testing.T, how func(*dial.Dialer, string) (grpc.ClientConnInterface, error), replicas ...*replica) healthpb.HealthClient {
	t.Helper()
	r := manual.NewBuilderWithScheme("replicas")
	var addrs []resolver.Address
	for _, rep := range replicas {
		addrs = append(addrs, resolver.Address{Addr: rep.addr})
	}
	r.InitialState(resolver.State{Addresses: addrs})
	d := dial.New(nil, grpc.WithResolvers(r))
	t.Cleanup(func() { _ = d.Close() })
	cc, err := how(d, "replicas:///mesh")
	if err != nil {
		t.Fatal(err)
	}
	return healthpb.NewHealthClient(cc)
}

func check(ctx context.Context, c healthpb.HealthClient) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

// TestBalancesAndFailsOver: calls spread over every resolved replica; once one is
// killed, every later call (with a deadline) succeeds on the other, none fails.
func TestBalancesAndFailsOver(t *testing.T) {
	a, b := startReplica(t, "127.0.0.1:0"), startReplica(t, "127.0.0.1:0")
	c := conn(t, a, b)
	ctx := context.Background()
	for range 100 {
		if err := check(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if a.calls.Load() < 20 || b.calls.Load() < 20 {
		t.Fatalf("calls not balanced over the replicas: %d and %d", a.calls.Load(), b.calls.Load())
	}
	a.server.Stop() // closes its connections at once, as a killed process would
	before := b.calls.Load()
	for i := range 200 {
		if err := check(ctx, c); err != nil {
			t.Fatalf("call %d after a replica died: %v", i, err)
		}
	}
	if got := b.calls.Load() - before; got != 200 {
		t.Fatalf("the live replica served %d of 200 calls", got)
	}
}

// TestWaitsForARestartedReplica: with the only replica down, a call with a deadline
// waits for it to come back (reconnecting at once) instead of failing fast.
func TestWaitsForARestartedReplica(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c := conn(t, a)
	ctx := context.Background()
	if err := check(ctx, c); err != nil {
		t.Fatal(err)
	}
	a.server.Stop()
	restarted := make(chan *replica, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		restarted <- startReplica(t, a.addr)
	}()
	start := time.Now()
	if err := check(ctx, c); err != nil {
		t.Fatalf("call while the replica restarted: %v", err)
	}
	if b := <-restarted; b.calls.Load() != 1 {
		t.Fatalf("the restarted replica served %d calls", b.calls.Load())
	}
	t.Logf("served %s after the replica went down", time.Since(start).Round(time.Millisecond))
}

// TestGivesUpOnAServiceThatIsGone: with no replica coming back, a call with a long
// deadline fails unavailable after about PeerReadyWait, not at its deadline.
func TestGivesUpOnAServiceThatIsGone(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c := conn(t, a)
	if err := check(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	a.server.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*dial.PeerReadyWait)
	defer cancel()
	start := time.Now()
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("call to a service that is gone: %v, want Unavailable", err)
	}
	if waited := time.Since(start); waited < dial.PeerReadyWait/2 || waited > 3*dial.PeerReadyWait {
		t.Fatalf("gave up after %s; want about %s", waited, dial.PeerReadyWait)
	}
}

// TestCallerChoosesFailFast: a call that asks for fail-fast itself (a readiness probe)
// is answered at once while the peer is down, deadline or not.
func TestCallerChoosesFailFast(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c := conn(t, a)
	if err := check(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	a.server.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*dial.PeerReadyWait)
	defer cancel()
	start := time.Now()
	if _, err := c.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(false)); status.Code(err) != codes.Unavailable {
		t.Fatalf("fail-fast call to a stopped replica: %v, want Unavailable", err)
	}
	if waited := time.Since(start); waited > dial.PeerReadyWait/2 {
		t.Fatalf("a fail-fast call waited %s", waited)
	}
}

// TestFailsFastWithoutDeadline: a call without a deadline (a long-lived stream's
// shape) does not wait for a peer that is gone.
func TestFailsFastWithoutDeadline(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c := conn(t, a)
	if err := check(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	a.server.Stop()
	done := make(chan error, 1)
	go func() {
		_, err := c.Check(context.Background(), &healthpb.HealthCheckRequest{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("call to a stopped replica succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call without a deadline waited for a replica that is gone")
	}
}

// TestProviderFailsFast: a provider's connection (Conn) neither waits nor retries, so
// a provider that is down is reported at once, well within the call's deadline.
func TestProviderFailsFast(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c := connAs(t, (*dial.Dialer).Conn, a)
	if err := check(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	a.server.Stop()
	time.Sleep(100 * time.Millisecond) // the connection notices the close
	start := time.Now()
	if err := check(context.Background(), c); err == nil {
		t.Fatal("call to a stopped provider succeeded")
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("a call to a stopped provider took %s; want a fast failure", waited)
	}
}
