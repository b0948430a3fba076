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

// providerServiceConfig balances over a provider's addresses too, but neither retries
// nor waits: a provider that is down is reported at once (its breaker counts it).
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
	grpc.WithChainUnaryInterceptor(waitForReadyUnary),
	grpc.WithChainStreamInterceptor(waitForReadyStream),
}

// PeerReadyWait bounds how long a call to a mesh service waits for a ready replica:
// long enough to ride out a restart or a rollout (a replacement is ready within a
// second or two), short enough that a service that is gone is reported unavailable
// (503 at the gateway) in seconds instead of holding every request for its whole
// deadline.
const PeerReadyWait = 5 * time.Second

// A call with a deadline rides out a peer that is restarting: while the connection is
// not ready it waits for it, up to PeerReadyWait and within the deadline, and a call
// that failed unavailable because the connection went down (not a peer that answered
// so) is made again once it is back. A call without a deadline (a long-lived stream)
// fails fast at once, so nothing waits on a peer that is gone, and so does a call that
// chose for itself with grpc.WaitForReady (a probe wants "connection refused" now).
func waitForReadyUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	call := func() error { return invoker(ctx, method, req, reply, cc, opts...) }
	if choosesWaitForReady(opts) {
		return call()
	}
	return withReadyWait(ctx, cc, call)
}

func waitForReadyStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if choosesWaitForReady(opts) {
		return streamer(ctx, desc, cc, method, opts...)
	}
	var stream grpc.ClientStream
	err := withReadyWait(ctx, cc, func() (err error) {
		stream, err = streamer(ctx, desc, cc, method, opts...)
		return err
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

func withReadyWait(ctx context.Context, cc *grpc.ClientConn, call func() error) error {
	if _, ok := ctx.Deadline(); !ok {
		return call()
	}
	giveUp := time.Now().Add(PeerReadyWait)
	for {
		awaitReady(ctx, cc, time.Until(giveUp))
		err := call()
		if status.Code(err) != codes.Unavailable || ctx.Err() != nil || !time.Now().Before(giveUp) ||
			cc.GetState() == connectivity.Ready {
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
func (d *Dialer) Conn(target string) (grpc.ClientConnInterface, error) {
	return d.conn(target, "", grpc.WithDefaultServiceConfig(providerServiceConfig))
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
