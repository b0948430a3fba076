package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Each peer server serves the echo tool to the bench's own client (initialize, then
// tools/call) and stands a short stateful load without errors.
func TestPeersServeEcho(t *testing.T) {
	for _, peer := range []string{peerMCPGo, peerGoSDK} {
		t.Run(peer, func(t *testing.T) {
			h, closeSessions, err := peerHandler(peer)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			defer closeSessions() // before the server closes: sessions end their streams
			endpoint, err := url.Parse(srv.URL + "/mcp")
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(newTransport(1), endpoint)
			if err := c.initialize(testContext(t)); err != nil {
				t.Fatal(err)
			}
			if err := c.callEcho(testContext(t)); err != nil {
				t.Fatal(err)
			}
			if answer := c.resp.String(); !strings.Contains(answer, `"text":"Echo: bench"`) || strings.Contains(answer, `"isError":true`) {
				t.Fatalf("echo answered %s", answer)
			}
			res, err := runLoad(testContext(t), loadSpec{
				Endpoint: srv.URL + "/mcp", Concurrency: 8, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, Stateful: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK == 0 || res.Errors != 0 || res.InitErrors != 0 {
				t.Fatalf("ok %d, errors %d, init errors %d (%v)", res.OK, res.Errors, res.InitErrors, res.FirstErrors)
			}
		})
	}
}

// The stateless load names its method and tool in headers, carries the 2026-07-28
// version in _meta and opens no session.
func TestRunLoadStateless(t *testing.T) {
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Mcp-Method") != "tools/call" || r.Header.Get("Mcp-Name") != "echo" ||
			r.Header.Get("Mcp-Protocol-Version") != "2026-07-28" || r.Header.Get("Mcp-Session-Id") != "" ||
			!strings.Contains(string(body), `"io.modelcontextprotocol/protocolVersion":"2026-07-28"`) {
			bad.Add(1)
			http.Error(w, "not a stateless call", http.StatusBadRequest)
			return
		}
		_, _ = w.Write(ceilingBody)
	}))
	defer srv.Close()
	res, err := runLoad(testContext(t), loadSpec{Endpoint: srv.URL + "/mcp", Concurrency: 4, Duration: 200 * time.Millisecond, Stateless: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 || bad.Load() != 0 {
		t.Fatalf("ok %d, errors %d (%v), refused %d", res.OK, res.Errors, res.FirstErrors, bad.Load())
	}
}
