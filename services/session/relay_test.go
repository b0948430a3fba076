package session

import (
	"bytes"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// holdingRelay is a TCP relay to a database that can hold back what the server sends
// on chosen connections: their client reads nothing more until released, as behind a
// stalled network path.
type holdingRelay struct {
	lis    net.Listener
	target string
	mu     sync.Mutex
	conns  []*relayedConn
}

// relayedConn is one relayed connection; port is the relay's local port towards the
// server, the client_port the server reports for it.
type relayedConn struct {
	port   int
	client net.Conn
	mu     sync.Mutex
	held   bool
	// heldData is what the server sent while held, not yet passed on.
	heldData []byte
}

func newHoldingRelay(t *testing.T, target string) *holdingRelay {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &holdingRelay{lis: lis, target: target}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = lis.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.release()
		}
		r.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			client, err := lis.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { r.serve(client) })
		}
	})
	return r
}

// pool opens a pool on db's database through the relay.
func (r *holdingRelay) pool(t *testing.T, db *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	cfg := db.Config().Copy()
	host, port, err := net.SplitHostPort(r.lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(p)
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func (r *holdingRelay) serve(client net.Conn) {
	defer func() { _ = client.Close() }()
	server, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer func() { _ = server.Close() }()
	c := &relayedConn{port: server.LocalAddr().(*net.TCPAddr).Port, client: client}
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(server, client)
		_ = server.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			c.mu.Lock()
			var werr error
			if c.held {
				c.heldData = append(c.heldData, buf[:n]...)
			} else {
				_, werr = client.Write(buf[:n])
			}
			c.mu.Unlock()
			if werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = client.Close()
	<-done
}

// hold holds the first relayed connection whose server-side port is one of ports and
// returns it (nil: none is).
func (r *holdingRelay) hold(ports []int) *relayedConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		if slices.Contains(ports, c.port) {
			c.mu.Lock()
			c.held = true
			c.mu.Unlock()
			return c
		}
	}
	return nil
}

// heldBack reports whether what the server sent while the connection was held and
// the client has not received contains s.
func (c *relayedConn) heldBack(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Contains(c.heldData, []byte(s))
}

// release passes the held bytes on and stops holding.
func (c *relayedConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		_, _ = c.client.Write(c.heldData)
	}
	c.held, c.heldData = false, nil
}
