package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// balancer is the round-robin HTTP load balancer of the replicas-pg layout: every
// request goes to the next gateway in turn, with no session affinity, as an ordinary
// load balancer in front of replicas does. It runs inside the bench process, so its
// CPU is counted as the generator's.
type balancer struct {
	URL       string
	srv       *http.Server
	transport *http.Transport
	hits      []atomic.Int64
	done      chan error
}

// startBalancer listens on 127.0.0.1 and proxies to backends (base URLs) in turn,
// keeping up to conns idle connections to each so that no request pays a new
// connection.
func startBalancer(backends []string, conns int) (*balancer, error) {
	if len(backends) == 0 {
		return nil, errors.New("balancer: no backends")
	}
	b := &balancer{transport: newTransport(conns), hits: make([]atomic.Int64, len(backends)), done: make(chan error, 1)}
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, backend := range backends {
		u, err := url.Parse(backend)
		if err != nil {
			return nil, fmt.Errorf("balancer: backend %q: %w", backend, err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
		proxies[i].Transport = b.transport
		proxies[i].FlushInterval = -1 // stream SSE at once
	}
	var next atomic.Uint64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int((next.Add(1) - 1) % uint64(len(proxies)))
		b.hits[i].Add(1)
		proxies[i].ServeHTTP(w, r)
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("balancer: %w", err)
	}
	b.URL = "http://" + lis.Addr().String()
	b.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { b.done <- b.srv.Serve(lis) }()
	return b, nil
}

// close stops listening and drops every connection, both sides.
func (b *balancer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if err != nil {
		err = b.srv.Close()
	}
	if serveErr := <-b.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	b.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("balancer: %w", err)
	}
	return nil
}
