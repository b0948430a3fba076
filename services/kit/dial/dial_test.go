package dial_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
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
	// held, when set, is closed by the first Check of heldService, which then never
	// returns (hold).
	held atomic.Pointer[chan struct{}]
}

// heldService is the service name whose Check a replica told to hold keeps.
const heldService = "held"

// hold makes r keep the next Check of heldService until r stops, closing held when
// it arrives.
func (r *replica) hold(held chan struct{}) { r.held.Store(&held) }

type holdingHealth struct {
	healthpb.HealthServer
	r *replica
}

func (h *holdingHealth) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if req.GetService() == heldService {
		if held := h.r.held.Swap(nil); held != nil {
			close(*held)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
	}
	return h.HealthServer.Check(ctx, req)
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
	healthpb.RegisterHealthServer(r.server, &holdingHealth{HealthServer: health.NewServer(), r: r})
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
	c, _ := connWithState(t, how, replicas...)
	return c
}

// connWithState is connAs that also returns the connection, to watch its state.
func connWithState(t *testing.T, how func(*dial.Dialer, string) (grpc.ClientConnInterface, error), replicas ...*replica) (healthpb.HealthClient, *grpc.ClientConn) {
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
	return healthpb.NewHealthClient(cc), cc.(*grpc.ClientConn)
}

// stopAndSeeItGo stops r and returns once cc has seen its connection close: a call
// made after that is one made while the connection is down, not one written onto a
// connection that is already gone before the client can know it (which counts as
// sent).
func stopAndSeeItGo(t *testing.T, r *replica, cc *grpc.ClientConn) {
	t.Helper()
	r.server.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for cc.GetState() == connectivity.Ready {
		if !cc.WaitForStateChange(ctx, connectivity.Ready) {
			t.Fatal("the connection still looks ready 10 s after its server stopped")
		}
	}
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

// TestProviderWaitsForAReconnect: a call to a provider whose connection is down (its
// replica restarting, or a balancer in front of it reconnecting to another) waits for
// the connection and is served, instead of failing fast.
func TestProviderWaitsForAReconnect(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c, cc := connWithState(t, (*dial.Dialer).Conn, a)
	if err := check(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	stopAndSeeItGo(t, a, cc)
	restarted := make(chan *replica, 1)
	go func() {
		time.Sleep(dial.ProviderReadyWait / 4)
		restarted <- startReplica(t, a.addr)
	}()
	start := time.Now()
	if err := check(context.Background(), c); err != nil {
		t.Fatalf("call while the provider's connection came back: %v", err)
	}
	if b := <-restarted; b.calls.Load() != 1 {
		t.Fatalf("the restarted provider served %d calls", b.calls.Load())
	}
	t.Logf("served %s after the provider went down", time.Since(start).Round(time.Millisecond))
}

// TestProviderGivesUpWithinReadyWait: a call to a provider that is down fails
// unavailable after about ProviderReadyWait, well within its deadline, so the
// provider's breaker counts it.
func TestProviderGivesUpWithinReadyWait(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c, cc := connWithState(t, (*dial.Dialer).Conn, a)
	if err := check(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	stopAndSeeItGo(t, a, cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*dial.ProviderReadyWait)
	defer cancel()
	start := time.Now()
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("call to a provider that is down: %v, want Unavailable", err)
	}
	if waited := time.Since(start); waited < dial.ProviderReadyWait/2 || waited > 3*dial.ProviderReadyWait {
		t.Fatalf("gave up after %s; want about %s", waited, dial.ProviderReadyWait)
	}
}

// TestProviderDownWithAShortDeadline: a call whose deadline is shorter than
// ProviderReadyWait stops waiting at half of it and reports the provider unavailable
// (the connection's failure), not a timeout.
func TestProviderDownWithAShortDeadline(t *testing.T) {
	a := startReplica(t, "127.0.0.1:0")
	c, cc := connWithState(t, (*dial.Dialer).Conn, a)
	if err := check(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	stopAndSeeItGo(t, a, cc)
	deadline := dial.ProviderReadyWait / 4
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("call with a %s deadline to a provider that is down: %v, want Unavailable", deadline, err)
	}
	if waited := time.Since(start); waited < deadline/4 || waited >= deadline {
		t.Fatalf("gave up after %s; want about %s", waited, deadline/2)
	}
}

// TestCallSentToAReplicaThatDies: a call in flight on a replica that dies fails on a
// provider's connection, and no other replica runs it (a tool call must not run
// twice); on a peer's connection it is made again on the other replica.
func TestCallSentToAReplicaThatDies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		how     func(*dial.Dialer, string) (grpc.ClientConnInterface, error)
		madeTwo bool
	}{
		{"provider", (*dial.Dialer).Conn, false},
		{"peer", (*dial.Dialer).Peer, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := startReplica(t, "127.0.0.1:0"), startReplica(t, "127.0.0.1:0")
			c := connAs(t, tc.how, a, b)
			// Calls go round robin over both replicas until one is held on a: the call
			// that returns once held is closed is the held one.
			held := make(chan struct{})
			a.hold(held)
			failed := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for {
					_, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: heldService})
					select {
					case <-held:
						failed <- err
						return
					default:
					}
					if err != nil {
						failed <- err
						return
					}
				}
			}()
			select {
			case <-held:
			case err := <-failed:
				t.Fatalf("no call was held on the replica to kill: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("no call reached the replica to kill")
			}
			servedByB := b.calls.Load()
			a.server.Stop() // closes its connections under the held call, as a killed process would
			err := <-failed
			madeAgain := b.calls.Load() > servedByB
			if tc.madeTwo {
				if err != nil || !madeAgain {
					t.Fatalf("peer call on a replica that died: err=%v, made again on the other: %v", err, madeAgain)
				}
				return
			}
			if status.Code(err) != codes.Unavailable || madeAgain {
				t.Fatalf("provider call on a replica that died: err=%v (want Unavailable), made again on the other: %v", err, madeAgain)
			}
		})
	}
}

// TestProviderReplicaDiesBehindABalancer: two provider replicas behind one address (a
// layer-4 balancer) and a call held on the first one when it dies. The held call
// fails and is not made again (it may have run); the calls made while the connection
// through the balancer reconnects (its first attempt refused, as from a balancer that
// has not yet seen the replica die) wait for it and are all served by the other
// replica: none fails, so none reaches the provider's breaker.
func TestProviderReplicaDiesBehindABalancer(t *testing.T) {
	a, b := startReplica(t, "127.0.0.1:0"), startReplica(t, "127.0.0.1:0")
	lb := startRelay(t, a.addr, b.addr)
	c := connAs(t, (*dial.Dialer).Conn, &replica{addr: lb.addr()})
	held := make(chan struct{})
	a.hold(held)
	heldErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: heldService})
		heldErr <- err
	}()
	select {
	case <-held:
	case err := <-heldErr:
		t.Fatalf("the call to hold returned: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the call to hold never reached the first replica")
	}
	a.server.Stop() // closes its connections under the held call, as a killed process would
	if err := <-heldErr; status.Code(err) != codes.Unavailable {
		t.Fatalf("the call held on the replica that died: %v, want Unavailable", err)
	}
	const after = 20
	errs := make(chan error, after)
	for range after {
		go func() { errs <- check(context.Background(), c) }()
	}
	for i := range after {
		if err := <-errs; err != nil {
			t.Errorf("call %d made while the connection reconnected: %v", i, err)
		}
	}
	if got := b.calls.Load(); got != after {
		t.Fatalf("the live replica served %d calls, want the %d made after the other died (the held call must not run again)", got, after)
	}
}
