// Package dial hands out gRPC client connections by target address and shares one
// connection per target. A target "inproc" (or "inproc:NAME") is the in-process channel
// of this process: -target=all wires its services together through it, with no
// network hop.
package dial

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
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

// New returns a Dialer. local serves "inproc" targets and may be nil when nothing is
// in process. opts are added to every network connection.
func New(local grpc.ClientConnInterface, opts ...grpc.DialOption) *Dialer {
	base := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	return &Dialer{local: local, opts: append(base, opts...), conns: map[string]*grpc.ClientConn{}}
}

// IsInProcess reports whether target names the in-process channel.
func IsInProcess(target string) bool {
	return target == InProcessScheme || strings.HasPrefix(target, InProcessScheme+":")
}

// Conn returns the connection for target, creating it on first use. Connections are
// lazy: an unreachable target fails the calls made on it, not Conn.
func (d *Dialer) Conn(target string) (grpc.ClientConnInterface, error) {
	if target == "" {
		return nil, errors.New("dial: empty target")
	}
	if IsInProcess(target) {
		if d.local == nil {
			return nil, fmt.Errorf("dial %s: nothing is served in this process", target)
		}
		return d.local, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.conns[target]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(target, d.opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	d.conns[target] = c
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
