// Package dial hands out gRPC client connections by target address and shares one
// connection per target. A target "inproc" (or "inproc:NAME") is the in-process channel
// of this process: -target=all wires its services together through it, with no
// network hop.
package dial

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// InProcessScheme prefixes targets served in the same process.
const InProcessScheme = "inproc"

// Dialer caches client connections by target. It is safe for concurrent use.
type Dialer struct {
	local grpc.ClientConnInterface
	opts  []grpc.DialOption

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// peerServiceConfig makes connections to the mesh's own services ride out the loss
// of a replica:
//   - round_robin over every address the target resolves to (a headless Service's
//     replicas), so new replicas take load and a dead one is skipped at once;
//   - a call answered UNAVAILABLE (the replica died or is draining before the call
//     was processed) is retried, on another replica under round_robin.
const peerServiceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig": [{
    "name": [{}],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.05s",
      "maxBackoff": "0.5s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// providerServiceConfig balances over a provider's addresses too. It has no retry
// policy: gRPC's retries would make a call again after a connection broke under it,
// and a tool call that reached a replica may have run there before it died
// (providerWait makes again only the calls that reached no connection).
const providerServiceConfig = `{"loadBalancingConfig": [{"round_robin": {}}]}`

// reconnect starts reconnecting at once and keeps the wait between attempts short, so
// a restarted replica is back in rotation within a second or two.
var reconnect = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
	MinConnectTimeout: 5 * time.Second,
}

// New returns a Dialer. local serves "inproc" targets and may be nil when nothing is
// in process. opts are added to every network connection (Peer connections also send
// the caller's principal: see principal.go); connections are plaintext unless opts carry
// transport credentials (kit/meshtls's DialOption), which replace the plaintext default.
func New(local grpc.ClientConnInterface, opts ...grpc.DialOption) *Dialer {
	base := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithConnectParams(reconnect)}
	return &Dialer{local: local, opts: append(base, opts...), conns: map[string]*grpc.ClientConn{}}
}

// peerOptions are added to connections made by Peer: connections to the mesh's own
// services, which also receive the principal of each call (principalOptions). Provider
// connections (Conn) never do: providers get a signed assertion instead.
var peerOptions = []grpc.DialOption{
	grpc.WithDefaultServiceConfig(peerServiceConfig),
	grpc.WithChainUnaryInterceptor(peerWait.unary),
	grpc.WithChainStreamInterceptor(peerWait.stream),
}

// providerOptions are added to connections made by Conn: to providers.
var providerOptions = []grpc.DialOption{
	grpc.WithDefaultServiceConfig(providerServiceConfig),
	grpc.WithChainUnaryInterceptor(providerWait.unary),
	grpc.WithChainStreamInterceptor(providerWait.stream),
}

// PeerReadyWait bounds how long a call to a mesh service waits for a ready replica:
// long enough to ride out a restart or a rollout (a replacement is ready within a
// second or two), short enough that a service that is gone is reported unavailable
// (503 at the gateway) in seconds instead of holding every request for its whole
// deadline.
const PeerReadyWait = 5 * time.Second

// ProviderReadyWait bounds how long a call to a provider waits for a ready
// connection: long enough to reconnect through a balancer to another replica after
// one died (tens of milliseconds), short enough that a provider that is down fails
// each call within it, so its breaker counts those failures and opens.
const ProviderReadyWait = 2 * time.Second

// readyAttempts bounds how often one call is made: each attempt but the first follows
// a connection that was lost and came back, so this never binds while a connection
// reconnects normally; it stops a call from spinning on a connection that keeps
// breaking.
const readyAttempts = 4

// readyWait is how the calls on one kind of connection ride out its reconnection.
// A call with a deadline that finds the connection not ready waits for it, up to
// limit and within the deadline, and a call that failed unavailable without reaching
// a connection (it was never sent: the connection was down when it was made) is made
// again once the connection is back. A call without a deadline (a long-lived stream)
// fails fast at once, so nothing waits on a peer that is gone, and so does a call
// that chose for itself with grpc.WaitForReady (a probe wants "connection refused"
// now).
type readyWait struct {
	limit time.Duration
	// resendBroken also makes again a call that was sent and failed unavailable
	// because its connection went down under it (not a server that answered so). Mesh
	// services are called so; providers are not: the call may have run on a replica
	// that died after it arrived, and a tool call must not run twice.
	resendBroken bool
	// halfTheDeadline also ends the wait once half of the call's remaining time has
	// passed, so that a connection that never became ready is reported for what it is
	// (unavailable, with gRPC's reason) and not as a timeout when the call's deadline is
	// shorter than limit (a provider that is down, with a short tool-call timeout).
	halfTheDeadline bool
}

var (
	peerWait     = readyWait{limit: PeerReadyWait, resendBroken: true}
	providerWait = readyWait{limit: ProviderReadyWait, halfTheDeadline: true}
)

func (w readyWait) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if choosesWaitForReady(opts) {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	return w.run(ctx, cc, func() (sent bool, err error) {
		// gRPC fills in the peer only once the call has a stream on a connection.
		var reached peer.Peer
		err = invoker(ctx, method, req, reply, cc, append(slices.Clip(opts), grpc.Peer(&reached))...)
		return reached.Addr != nil, err
	})
}

func (w readyWait) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if choosesWaitForReady(opts) {
		return streamer(ctx, desc, cc, method, opts...)
	}
	var stream grpc.ClientStream
	err := w.run(ctx, cc, func() (sent bool, err error) {
		// Opening a stream sends no request message: that is SendMsg's, later.
		stream, err = streamer(ctx, desc, cc, method, opts...)
		return false, err
	})
	return stream, err
}

// choosesWaitForReady reports whether the call set grpc.WaitForReady itself.
func choosesWaitForReady(opts []grpc.CallOption) bool {
	for _, o := range opts {
		if _, ok := o.(grpc.FailFastCallOption); ok {
			return true
		}
	}
	return false
}

// run makes call (which reports whether it reached a connection) as w says.
func (w readyWait) run(ctx context.Context, cc *grpc.ClientConn, call func() (sent bool, err error)) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		_, err := call()
		return err
	}
	start := time.Now()
	giveUp := start.Add(w.limit)
	if half := start.Add(deadline.Sub(start) / 2); w.halfTheDeadline && half.Before(giveUp) {
		giveUp = half
	}
	for attempt := 1; ; attempt++ {
		// A ready connection (nearly every call) needs no wait, nor its timer.
		if cc.GetState() != connectivity.Ready {
			awaitReady(ctx, cc, time.Until(giveUp))
		}
		sent, err := call()
		if status.Code(err) != codes.Unavailable || ctx.Err() != nil || !time.Now().Before(giveUp) || attempt == readyAttempts {
			return err
		}
		// Sent, on a connection that is ready now: the server answered unavailable.
		// Sent, on one that is not: it broke under the call.
		if sent && (!w.resendBroken || cc.GetState() == connectivity.Ready) {
			return err
		}
	}
}

// awaitReady returns once cc is ready, or after limit (or ctx) ends the wait.
func awaitReady(ctx context.Context, cc *grpc.ClientConn, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		state := cc.GetState()
		switch state {
		case connectivity.Ready, connectivity.Shutdown:
			return
		case connectivity.Idle:
			cc.Connect()
		}
		if !cc.WaitForStateChange(ctx, state) {
			return
		}
	}
}

// IsInProcess reports whether target names the in-process channel.
func IsInProcess(target string) bool {
	return target == InProcessScheme || strings.HasPrefix(target, InProcessScheme+":")
}

// Conn returns the connection for target (a provider), creating it on first use.
// Connections are lazy: an unreachable target fails the calls made on it, not Conn.
// A call with a deadline waits for a ready connection (up to ProviderReadyWait, and
// half of its remaining time at most), and one that failed before reaching a
// connection is made again once there is one, so a provider replica that dies behind
// a balancer fails only the calls it had received; a call that was sent is never made
// again.
func (d *Dialer) Conn(target string) (grpc.ClientConnInterface, error) {
	return d.conn(target, "", providerOptions...)
}

// Peer is Conn for a service of the mesh itself (peers.*): calls carry the caller's
// principal (providers get a mesh-signed assertion instead, never the principal's
// claims), calls answered UNAVAILABLE are retried and calls with a deadline wait for a
// ready replica (up to PeerReadyWait).
func (d *Dialer) Peer(target string) (grpc.ClientConnInterface, error) {
	return d.conn(target, "peer:", slices.Concat(principalOptions, peerOptions)...)
}

func (d *Dialer) conn(target, keyPrefix string, extra ...grpc.DialOption) (grpc.ClientConnInterface, error) {
	if target == "" {
		return nil, errors.New("dial: empty target")
	}
	if IsInProcess(target) {
		if d.local == nil {
			return nil, fmt.Errorf("dial %s: nothing is served in this process", target)
		}
		return d.local, nil
	}
	key := keyPrefix + target
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.conns[key]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(target, append(slices.Clone(d.opts), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	d.conns[key] = c
	return c, nil
}

// Forget closes and drops the connection to target, if any (for example when a
// provider leaves the mesh).
func (d *Dialer) Forget(target string) {
	d.mu.Lock()
	c, ok := d.conns[target]
	delete(d.conns, target)
	d.mu.Unlock()
	if ok {
		_ = c.Close()
	}
}

// Close closes every network connection.
func (d *Dialer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for t, c := range d.conns {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection to %s: %w", t, err))
		}
		delete(d.conns, t)
	}
	return errors.Join(errs...)
}
