package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestSDKResumesOnAnotherReplica: the official Go SDK client's GET stream runs through
// replica 1 (gateway-1 → transport-1 → session-1); transport-1 is killed with SIGKILL
// and the client's traffic moves to replica 2. The client reconnects its GET stream
// there with Last-Event-ID, and every resource update recorded meanwhile reaches it:
// the session's event store is shared, so any replica can replay it.
func TestSDKResumesOnAnotherReplica(t *testing.T) {
	m := startReplicated(t)
	var target atomic.Pointer[httputil.ReverseProxy]
	proxyTo := func(base string) *httputil.ReverseProxy {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		p := httputil.NewSingleHostReverseProxy(u)
		p.FlushInterval = -1
		p.Transport = http.DefaultTransport.(*http.Transport).Clone()
		return p
	}
	target.Store(proxyTo(m.gateways[0]))
	var resumed atomic.Int32 // GET streams reopened with a Last-Event-ID
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.Header.Get("Last-Event-ID") != "" {
			resumed.Add(1)
		}
		target.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	updates := make(chan string, 256)
	client := mcp.NewClient(&mcp.Implementation{Name: "sdk-resume-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) { updates <- req.Params.URI },
	})
	pool := http.DefaultTransport.(*http.Transport).Clone()
	defer pool.CloseIdleConnections()
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: front.URL + "/mcp", HTTPClient: &http.Client{Transport: pool}, MaxRetries: 10},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer session.Close()
	if err := session.Subscribe(ctx, &mcp.SubscribeParams{URI: watchedURI}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	touch := func() {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "touch-resource", Arguments: json.RawMessage(`{}`)})
		if err != nil || res.IsError {
			t.Fatalf("touch-resource: %+v %v", res, err)
		}
	}
	// The GET stream is open on replica 1 once an update arrives through it.
	waitFor(t, ctx, touch, func() bool {
		select {
		case <-updates:
			return true
		default:
			return false
		}
	})
	for len(updates) > 0 { // a timer change may have queued another
		<-updates
	}

	// Replica 1's transport dies; the client's requests go to replica 2 from now on.
	m.processes["transport-1"].Kill()
	target.Store(proxyTo(m.gateways[1]))
	const missed = 3
	for range missed {
		touch() // recorded for the session while its GET stream reconnects
	}
	// Every change reaches the client: replayed from the event store on replica 2
	// (or, for one made after the reconnect, delivered live).
	deadline := time.After(30 * time.Second)
	for got := 0; got < missed; {
		select {
		case uri := <-updates:
			if uri != watchedURI {
				t.Fatalf("update for %q", uri)
			}
			got++
		case <-deadline:
			t.Fatalf("%d of %d updates made while the stream moved reached the client", got, missed)
		}
	}
	if resumed.Load() == 0 {
		t.Fatal("the client never reopened its GET stream with Last-Event-ID")
	}
}
