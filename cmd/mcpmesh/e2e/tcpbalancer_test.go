package e2e

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpBalancer is a layer-4 round-robin balancer over the gRPC addresses of the
// replicas of one service, like a Kubernetes ClusterIP service: each accepted
// connection is piped to the next backend that accepts a connection, and is closed
// when that backend goes away, so the gRPC client reconnects and lands on a live one.
// It lets every transport reach both session replicas, and every gateway both
// transport replicas, through one peer address.
type tcpBalancer struct {
	lis      net.Listener
	backends []string
	next     atomic.Uint64
	wg       sync.WaitGroup

	mu     sync.Mutex
	open   map[net.Conn]int // client connection -> backend index
	closed bool
}

func newTCPBalancer(t *testing.T, backends ...string) *tcpBalancer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &tcpBalancer{lis: lis, backends: backends, open: map[net.Conn]int{}}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.close)
	return b
}

// addr is the balancer's address, to give as a peer address.
func (b *tcpBalancer) addr() string { return b.lis.Addr().String() }

// connections counts the open client connections piped to each backend.
func (b *tcpBalancer) connections() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]int, len(b.backends))
	for _, i := range b.open {
		out[i]++
	}
	return out
}

func (b *tcpBalancer) accept() {
	defer b.wg.Done()
	for {
		client, err := b.lis.Accept()
		if err != nil {
			return // closed
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.serve(client)
		}()
	}
}

// serve pipes client to the first backend, in round-robin order, that accepts.
func (b *tcpBalancer) serve(client net.Conn) {
	defer client.Close()
	start := int(b.next.Add(1))
	var backend net.Conn
	idx := -1
	for k := range b.backends {
		i := (start + k) % len(b.backends)
		c, err := net.DialTimeout("tcp", b.backends[i], time.Second)
		if err == nil {
			backend, idx = c, i
			break
		}
	}
	if backend == nil {
		return // no backend alive: the client sees the connection close
	}
	defer backend.Close()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.open[client] = idx
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.open, client)
		b.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // EOF or a reset by a killed side ends the pipe alike
		done <- struct{}{}
	}
	go pipe(backend, client)
	go pipe(client, backend)
	<-done // either side gone: close both, which ends the other copy
	_ = client.Close()
	_ = backend.Close()
	<-done
}

func (b *tcpBalancer) close() {
	_ = b.lis.Close()
	b.mu.Lock()
	b.closed = true
	for c := range b.open {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}
