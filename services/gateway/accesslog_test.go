package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// logSink collects JSON log lines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// accessLines returns the access-log lines written so far.
func (s *logSink) accessLines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(s.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "http request" {
			out = append(out, m)
		}
	}
	return out
}

// waitLines waits until n access-log lines are written: a JSON response can reach
// the client before its handler has returned and logged.
func (s *logSink) waitLines(t *testing.T, n int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	// The caller checks what it got: a short count is its failure to describe.
	eventually.Within(10*time.Second, func() bool { lines = s.accessLines(t); return len(lines) >= n })
	return lines
}

var (
	testTraceID, _ = trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	testSpanID, _  = trace.SpanIDFromHex("00f067aa0ba902b7")
)

// withSpan puts a span context in every request, as the tracing middleware does in the mesh.
func withSpan(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := trace.ContextWithSpanContext(r.Context(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled,
		}))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func TestAccessLog(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		want    map[string]any // fields of the one line; nil: no line
	}{
		{"MCP call with session", http.MethodPost, "/mcp", rpc("json"),
			mcpHeaders(map[string]string{"Mcp-Method": "tools/call", "Mcp-Session-Id": "secret-session-id"}),
			map[string]any{"method": "POST", "path": "/mcp", "mcp_method": "tools/call", "status": 200.0, "session": true}},
		{"MCP without the method header", http.MethodPost, "/mcp", rpc("json"), mcpHeaders(nil),
			map[string]any{"method": "POST", "path": "/mcp", "mcp_method": "", "status": 200.0, "session": false}},
		{"MCP rejected", http.MethodPost, "/mcp", rpc("json"), map[string]string{"Content-Type": "text/plain"},
			map[string]any{"method": "POST", "path": "/mcp", "status": 415.0}},
		{"MCP method not allowed", http.MethodPut, "/mcp", "", nil,
			map[string]any{"method": "PUT", "path": "/mcp", "status": 405.0}},
		{"REST call", http.MethodPost, "/v1/tools/echo:call", `{}`, map[string]string{"Content-Type": "application/json"},
			map[string]any{"method": "POST", "path": "/v1/tools/echo:call", "mcp_method": "", "status": 200.0}},
		{"probe not logged", http.MethodGet, "/healthz", "", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sink logSink
			h := newHarness(t, harnessOptions{inProcess: true, wrap: withSpan, logger: slog.New(slog.NewJSONHandler(&sink, nil))})
			h.t = t
			resp, body := h.do(h.request(tc.method, tc.path, tc.body, tc.headers))
			if tc.want == nil {
				if lines := sink.accessLines(t); len(lines) != 0 {
					t.Fatalf("access lines %v, want none", lines)
				}
				return
			}
			lines := sink.waitLines(t, 1)
			if len(lines) != 1 {
				t.Fatalf("%d access lines, want 1: %v", len(lines), lines)
			}
			line := lines[0]
			for k, v := range tc.want {
				if line[k] != v {
					t.Errorf("%s = %#v, want %#v (line %v)", k, line[k], v, line)
				}
			}
			if line["level"] != "INFO" || line["trace_id"] != testTraceID.String() || line["span_id"] != testSpanID.String() {
				t.Errorf("line %v: want level INFO and the request's trace and span ids", line)
			}
			if got, ok := line["bytes"].(float64); !ok || int(got) != len(body) {
				t.Errorf("bytes = %v, want %d (the body sent, status %d)", line["bytes"], len(body), resp.StatusCode)
			}
			if _, ok := line["duration_ms"].(float64); !ok {
				t.Errorf("duration_ms missing: %v", line)
			}
			if bytes.Contains(sink.buf.Bytes(), []byte("secret-session-id")) {
				t.Errorf("the session id reached the log: %s", sink.buf.String())
			}
		})
	}
}

// TestAccessLogEventStreamOnce: a streamed response is logged once, when it ends,
// with every byte of the stream.
func TestAccessLogEventStreamOnce(t *testing.T) {
	var sink logSink
	h := newHarness(t, harnessOptions{logger: slog.New(slog.NewJSONHandler(&sink, nil))})
	h.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.client.Do(h.request(http.MethodPost, "/mcp", rpc("step"), mcpHeaders(nil)).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if ev, err := readEvent(r); err != nil || ev.id != "s1" {
		t.Fatalf("first event = %+v, %v", ev, err)
	}
	// The handler is still streaming: nothing may be logged yet.
	if lines := sink.accessLines(t); len(lines) != 0 {
		t.Fatalf("logged while the stream is open: %v", lines)
	}
	close(h.transport.release)
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	lines := sink.waitLines(t, 1)
	if len(lines) != 1 {
		t.Fatalf("%d access lines for one stream, want 1: %v", len(lines), lines)
	}
	if lines[0]["status"] != 200.0 || lines[0]["bytes"].(float64) <= float64(len(rest)) {
		t.Fatalf("line %v: want status 200 and all the stream's bytes (more than the %d after the first event)", lines[0], len(rest))
	}
}

func TestAccessLogOff(t *testing.T) {
	var sink logSink
	h := newHarness(t, harnessOptions{
		inProcess: true,
		logger:    slog.New(slog.NewJSONHandler(&sink, nil)),
		configure: func(c *gateway.Config) { c.AccessLog = false },
	})
	h.t = t
	h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(nil)))
	h.do(h.request(http.MethodPost, "/v1/tools/echo:call", `{}`, map[string]string{"Content-Type": "application/json"}))
	// The metrics are written in the same deferred call as the log line would be:
	// once both requests are counted, a line would have been written.
	waitCounted(t, h, 2)
	if lines := sink.accessLines(t); len(lines) != 0 {
		t.Fatalf("gateway.access_log off, yet %d lines: %v", len(lines), lines)
	}
}

// waitCounted waits until http_server_request_duration_seconds counts at least n
// requests outside /metrics itself.
func waitCounted(t *testing.T, h *harness, n uint64) {
	t.Helper()
	var sum uint64
	if !eventually.Within(10*time.Second, func() bool {
		sum = 0
		for request, count := range requestCounts(scrapeMetrics(t, h)) {
			if request != "200 GET /metrics" {
				sum += count
			}
		}
		return sum >= n
	}) {
		t.Fatalf("only %v requests counted, want %v", sum, n)
	}
}
