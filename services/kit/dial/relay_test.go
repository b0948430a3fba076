package dial_test

import (
	"io"
	"net"
	"sync"
	"testing"
)

// relay is a layer-4 balancer in front of replicas, as a ClusterIP Service or a TCP
// load balancer is: one address, each client connection piped to one backend. It
// sends new connections to the same backend until that backend refuses one, which it
// then closes (the client sees a failed connection, as behind a balancer whose health
// check has not noticed yet) before it moves to the next backend.
type relay struct {
	lis      net.Listener
	backends []string

	mu      sync.Mutex
	current int
	open    map[net.Conn]struct{}
	wg      sync.WaitGroup
}

func startRelay(t *testing.T, backends ...string) *relay {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{lis: lis, backends: backends, open: map[net.Conn]struct{}{}}
	r.wg.Go(r.accept)
	t.Cleanup(r.close)
	return r
}

func (r *relay) addr() string { return r.lis.Addr().String() }

func (r *relay) accept() {
	for {
		client, err := r.lis.Accept()
		if err != nil {
			return // closed
		}
		r.wg.Go(func() { r.serve(client) })
	}
}

func (r *relay) serve(client net.Conn) {
	defer client.Close()
	r.mu.Lock()
	target := r.backends[r.current]
	r.mu.Unlock()
	backend, err := net.Dial("tcp", target)
	if err != nil {
		r.mu.Lock()
		if r.backends[r.current] == target {
			r.current = (r.current + 1) % len(r.backends)
		}
		r.mu.Unlock()
		return
	}
	defer backend.Close()
	if !r.track(client, backend) {
		return
	}
	defer r.untrack(client, backend)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(backend, client)
	go pipe(client, backend)
	<-done // either side gone: close both, as a balancer does
	_ = client.Close()
	_ = backend.Close()
	<-done
}

func (r *relay) track(conns ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		return false // closing
	}
	for _, c := range conns {
		r.open[c] = struct{}{}
	}
	return true
}

func (r *relay) untrack(conns ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range conns {
		delete(r.open, c)
	}
}

func (r *relay) close() {
	_ = r.lis.Close()
	r.mu.Lock()
	for c := range r.open {
		_ = c.Close()
	}
	r.open = nil
	r.mu.Unlock()
	r.wg.Wait()
}
