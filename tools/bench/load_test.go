package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// fakeMCP is a small stateful Streamable HTTP server that enforces what the generator
// must send: a session from initialize, the session and version headers afterwards,
// notifications/initialized before calls, and the Accept header on every POST.
type fakeMCP struct {
	mu          sync.Mutex
	sessions    map[string]bool // id -> initialized
	calls       atomic.Int64
	rejectInits bool
	// authorization, when set, is the Authorization header every POST must carry.
	authorization string
}

func newFakeMCP() *fakeMCP { return &fakeMCP{sessions: map[string]bool{}} }

func (f *fakeMCP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Accept") != "application/json, text/event-stream" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad accept or content type", http.StatusNotAcceptable)
		return
	}
	if f.authorization != "" && r.Header.Get("Authorization") != f.authorization {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	msg := string(body)
	if strings.Contains(msg, `"method":"initialize"`) {
		if f.rejectInits {
			http.Error(w, `{"jsonrpc":"2.0","id":0,"error":{"code":-32600,"message":"no"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("session-%d", len(f.sessions))
		f.sessions[id] = false
		f.mu.Unlock()
		w.Header().Set("Mcp-Session-Id", id)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"1"}}}`)
		return
	}
	id := r.Header.Get("Mcp-Session-Id")
	f.mu.Lock()
	initialized, known := f.sessions[id]
	f.mu.Unlock()
	switch {
	case !known:
		http.Error(w, "unknown session", http.StatusNotFound)
	case r.Header.Get("Mcp-Protocol-Version") != protocolVersion:
		http.Error(w, "bad protocol version header", http.StatusBadRequest)
	case strings.Contains(msg, `"method":"notifications/initialized"`):
		f.mu.Lock()
		f.sessions[id] = true
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case !initialized:
		http.Error(w, "not initialized", http.StatusBadRequest)
	case strings.Contains(msg, `"method":"tools/call"`) && strings.Contains(msg, `"name":"echo"`):
		n := f.calls.Add(1)
		if n%2 == 0 { // answer as SSE every other time: the client must accept both
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Echo: bench\"}]}}\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Echo: bench"}]}}`)
	default:
		http.Error(w, "unexpected message", http.StatusBadRequest)
	}
}

func (f *fakeMCP) initializedSessions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ok := range f.sessions {
		if ok {
			n++
		}
	}
	return n
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunLoadAgainstCeiling(t *testing.T) {
	srv := httptest.NewServer(ceilingHandler())
	defer srv.Close()
	res, err := runLoad(testContext(t), loadSpec{
		Endpoint:    srv.URL + "/mcp",
		Concurrency: 20,
		Warmup:      50 * time.Millisecond,
		Duration:    300 * time.Millisecond,
		ServerPIDs:  []int{os.Getpid()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 {
		t.Fatalf("ok %d, errors %d (%v); want some answers and no errors", res.OK, res.Errors, res.FirstErrors)
	}
	if res.Latency.total != res.OK || res.Window <= 0 {
		t.Fatalf("latencies recorded %d for %d answers, window %s", res.Latency.total, res.OK, res.Window)
	}
}

func TestRunLoadStatefulSessions(t *testing.T) {
	mcp := newFakeMCP()
	srv := httptest.NewServer(mcp)
	defer srv.Close()
	res, err := runLoad(testContext(t), loadSpec{
		Endpoint:    srv.URL + "/mcp",
		Concurrency: 20,
		Warmup:      50 * time.Millisecond,
		Duration:    300 * time.Millisecond,
		Stateful:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 || res.InitErrors != 0 {
		t.Fatalf("ok %d, errors %d, init errors %d (%v); want answers and no errors", res.OK, res.Errors, res.InitErrors, res.FirstErrors)
	}
	if got := mcp.initializedSessions(); got != 20 {
		t.Fatalf("server saw %d initialized sessions, want one per worker (20)", got)
	}
}

// Every request of a session (initialize, initialized, calls) carries the key.
func TestRunLoadSendsAuthorization(t *testing.T) {
	mcp := newFakeMCP()
	mcp.authorization = "Bearer mcpm_k"
	srv := httptest.NewServer(mcp)
	defer srv.Close()
	res, err := runLoad(testContext(t), loadSpec{
		Endpoint:      srv.URL + "/mcp",
		Concurrency:   4,
		Warmup:        20 * time.Millisecond,
		Duration:      100 * time.Millisecond,
		Stateful:      true,
		Authorization: mcp.authorization,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 || res.InitErrors != 0 {
		t.Fatalf("ok %d, errors %d, init errors %d (%v); want answers and no errors", res.OK, res.Errors, res.InitErrors, res.FirstErrors)
	}
}

func TestRunLoadCountsErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"HTTP 500", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			http.Error(w, "boom", http.StatusInternalServerError)
		}, "HTTP 500"},
		{"JSON-RPC error body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Unknown tool: echo"}}`)
		}, "no result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			res, err := runLoad(testContext(t), loadSpec{Endpoint: srv.URL, Concurrency: 4, Duration: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != 0 || res.Errors == 0 {
				t.Fatalf("ok %d, errors %d; want only errors", res.OK, res.Errors)
			}
			if len(res.FirstErrors) == 0 || !strings.Contains(res.FirstErrors[0], tt.want) {
				t.Fatalf("first errors %q, want one mentioning %q", res.FirstErrors, tt.want)
			}
		})
	}
}

func TestRunLoadFailsWhenNoSessionOpens(t *testing.T) {
	mcp := newFakeMCP()
	mcp.rejectInits = true
	srv := httptest.NewServer(mcp)
	defer srv.Close()
	res, err := runLoad(testContext(t), loadSpec{Endpoint: srv.URL, Concurrency: 3, Duration: 100 * time.Millisecond, Stateful: true})
	if err == nil || res.InitErrors != 3 {
		t.Fatalf("err %v, init errors %d; want an error and 3 failed sessions", err, res.InitErrors)
	}
}

func TestRunLoadStopsWhenCancelled(t *testing.T) {
	srv := httptest.NewServer(ceilingHandler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := runLoad(ctx, loadSpec{Endpoint: srv.URL, Concurrency: 4, Duration: time.Hour})
	if err == nil {
		t.Fatal("runLoad of an hour returned no error after its context was cancelled")
	}
}

func TestOpenIdle(t *testing.T) {
	mcp := newFakeMCP()
	endpoint, transport := serveMCP(t, mcp)
	opened, _, errs := openIdle(testContext(t), transport, endpoint, 50, 4, false)
	if opened != 50 || len(errs) != 0 {
		t.Fatalf("opened %d, errors %v; want 50 and none", opened, errs)
	}
	if got := mcp.initializedSessions(); got != 50 {
		t.Fatalf("server saw %d initialized sessions, want 50", got)
	}
	if mcp.calls.Load() != 0 {
		t.Fatalf("idle sessions made %d calls, want none", mcp.calls.Load())
	}
}

func TestWarmIdle(t *testing.T) {
	mcp := newFakeMCP()
	srv := httptest.NewServer(mcp)
	defer srv.Close()
	endpoint, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	transport := newTransport(3)
	defer transport.CloseIdleConnections()
	if err := warmIdle(testContext(t), transport, endpoint, 3, 5); err != nil {
		t.Fatal(err)
	}
	if got := mcp.calls.Load(); got != 15 {
		t.Fatalf("server saw %d echo calls, want 3 connections x 5", got)
	}
}

// TestOpenIdleWithStreams: each session opens its GET stream, which stays open (one
// connection each) until the caller closes it.
func TestOpenIdleWithStreams(t *testing.T) {
	mcp := newFakeMCP()
	var open atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			mcp.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Accept") != "text/event-stream" || r.Header.Get("Mcp-Session-Id") == "" || r.Header.Get("Mcp-Protocol-Version") != protocolVersion {
			http.Error(w, "bad GET", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		open.Add(1)
		defer open.Add(-1)
		<-r.Context().Done()
	})
	endpoint, transport := serveMCP(t, handler)
	opened, streams, errs := openIdle(testContext(t), transport, endpoint, 20, 4, true)
	if opened != 20 || len(streams) != 20 || len(errs) != 0 {
		t.Fatalf("opened %d with %d streams, errors %v; want 20, 20 and none", opened, len(streams), errs)
	}
	if got := open.Load(); got != 20 {
		t.Fatalf("server holds %d open streams after openIdle returned, want 20", got)
	}
	for _, s := range streams {
		_ = s.Close()
	}
	if !eventually.Within(10*time.Second, func() bool { return open.Load() == 0 }) {
		t.Fatalf("%d streams still open after every body was closed", open.Load())
	}
}

// serveMCP serves h and returns its /mcp endpoint and a transport of four connections,
// both closed when the test ends.
func serveMCP(t *testing.T, h http.Handler) (*url.URL, *http.Transport) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	endpoint, err := url.Parse(srv.URL + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	transport := newTransport(4)
	t.Cleanup(transport.CloseIdleConnections)
	return endpoint, transport
}
