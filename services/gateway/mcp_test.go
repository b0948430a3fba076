package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/gateway"
)

// rpcError is an id-less JSON-RPC error response.
type rpcError struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id"`
	Error   struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func parseRPCError(t *testing.T, body []byte) rpcError {
	t.Helper()
	var e rpcError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body is not a JSON-RPC error: %v: %q", err, body)
	}
	if e.JSONRPC != "2.0" || e.Error.Code == 0 || e.Error.Message == "" {
		t.Fatalf("incomplete JSON-RPC error: %q", body)
	}
	if e.ID != nil {
		t.Fatalf("gateway errors carry no id: %q", body)
	}
	return e
}

func TestMCPRejections(t *testing.T) {
	const limit = 64
	h := newHarness(t, harnessOptions{configure: func(c *gateway.Config) {
		c.MaxBodyBytes = limit
		c.AllowedOrigins = []string{"https://app.example.com"}
	}})
	tests := []struct {
		name       string
		method     string
		body       string
		headers    map[string]string
		wantStatus int
		wantAllow  bool
		wantInMsg  string
	}{
		{name: "PUT", method: http.MethodPut, body: rpc("json"), headers: mcpHeaders(nil), wantStatus: 405, wantAllow: true},
		{name: "PATCH", method: http.MethodPatch, body: rpc("json"), headers: mcpHeaders(nil), wantStatus: 405, wantAllow: true},
		{name: "HEAD", method: http.MethodHead, headers: mcpHeaders(nil), wantStatus: 405, wantAllow: true},
		{name: "OPTIONS", method: http.MethodOptions, headers: mcpHeaders(nil), wantStatus: 405, wantAllow: true},
		{name: "text/plain", method: http.MethodPost, body: rpc("json"),
			headers: mcpHeaders(map[string]string{"Content-Type": "text/plain"}), wantStatus: 415},
		{name: "no content type", method: http.MethodPost, body: rpc("json"),
			headers: map[string]string{"Accept": "application/json"}, wantStatus: 415},
		{name: "bad content type", method: http.MethodPost, body: rpc("json"),
			headers: mcpHeaders(map[string]string{"Content-Type": "application/json; charset"}), wantStatus: 415},
		{name: "accept html", method: http.MethodPost, body: rpc("json"),
			headers: mcpHeaders(map[string]string{"Accept": "text/html"}), wantStatus: 406},
		{name: "no accept", method: http.MethodPost, body: rpc("json"),
			headers: map[string]string{"Content-Type": "application/json"}, wantStatus: 406},
		{name: "accept refused with q=0", method: http.MethodPost, body: rpc("json"),
			headers: mcpHeaders(map[string]string{"Accept": "application/json;q=0, text/event-stream; q=0.0"}), wantStatus: 406},
		{name: "GET without event-stream", method: http.MethodGet,
			headers: map[string]string{"Accept": "application/json", "Mcp-Session-Id": "sess-1"}, wantStatus: 406},
		{name: "body over limit", method: http.MethodPost, body: strings.Repeat(" ", limit+1),
			headers: mcpHeaders(nil), wantStatus: 413, wantInMsg: strconv.Itoa(limit)},
		{name: "foreign origin", method: http.MethodPost, body: rpc("json"),
			headers: mcpHeaders(map[string]string{"Origin": "https://evil.example"}), wantStatus: 403},
		{name: "null origin", method: http.MethodPost, body: rpc("json"),
			headers: mcpHeaders(map[string]string{"Origin": "null"}), wantStatus: 403},
		{name: "foreign origin on GET", method: http.MethodGet,
			headers: map[string]string{"Accept": "text/event-stream", "Origin": "http://evil.example"}, wantStatus: 403},
		{name: "foreign origin on DELETE", method: http.MethodDelete,
			headers: map[string]string{"Mcp-Session-Id": "sess-1", "Origin": "http://evil.example"}, wantStatus: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			resp, body := h.do(h.request(tc.method, "/mcp", tc.body, tc.headers))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantAllow && resp.Header.Get("Allow") != "GET, POST, DELETE" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
			if tc.method == http.MethodHead {
				return // no body on HEAD
			}
			e := parseRPCError(t, body)
			if !strings.Contains(e.Error.Message, tc.wantInMsg) {
				t.Errorf("message %q does not mention %q", e.Error.Message, tc.wantInMsg)
			}
		})
	}
}

func TestMCPDefaultBodyLimit(t *testing.T) {
	h := newHarness(t, harnessOptions{inProcess: true})
	h.t = t
	limit := gateway.DefaultConfig().MaxBodyBytes
	tests := []struct {
		name string
		size int64
		want int
	}{
		{"at limit", limit, http.StatusBadRequest}, // reaches the transport, which cannot parse spaces
		{"one byte over", limit + 1, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			resp, body := h.do(h.request(http.MethodPost, "/mcp", strings.Repeat(" ", int(tc.size)), mcpHeaders(nil)))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.want, body)
			}
			if tc.want == http.StatusRequestEntityTooLarge {
				if e := parseRPCError(t, body); !strings.Contains(e.Error.Message, "4194304") {
					t.Errorf("message %q does not say the limit", e.Error.Message)
				}
			}
		})
	}
}

func TestMCPOriginAllowed(t *testing.T) {
	h := newHarness(t, harnessOptions{configure: func(c *gateway.Config) {
		c.AllowedOrigins = []string{"https://app.example.com"}
	}})
	host := strings.TrimPrefix(h.server.URL, "http://")
	for _, origin := range []string{"", "https://app.example.com", "HTTPS://APP.EXAMPLE.COM", "http://" + host} {
		t.Run("origin="+origin, func(t *testing.T) {
			h.t = t
			resp, body := h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(map[string]string{"Origin": origin})))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200 (body %q)", resp.StatusCode, body)
			}
		})
	}
}

// TestMCPHostCheck is the DNS-rebinding protection: on a loopback bind a Host other
// than a loopback name (or a listed one) gets 403, even with a matching Origin; on a
// public bind only gateway.allowed_hosts applies.
func TestMCPHostCheck(t *testing.T) {
	const evil = "evil.example.com"
	tests := []struct {
		name   string
		listen string
		hosts  []string
		host   string // "" keeps the test server's own 127.0.0.1:port
		origin string
		want   int // 200: let through, 403: rejected
	}{
		{name: "loopback rebinding", listen: "127.0.0.1:8080", host: evil, origin: "http://" + evil, want: 403},
		{name: "loopback rebinding without origin", listen: "127.0.0.1:8080", host: evil + ":8080", want: 403},
		{name: "loopback own host", listen: "127.0.0.1:8080", want: 200},
		{name: "loopback own host and origin", listen: "127.0.0.1:8080", origin: "same", want: 200},
		{name: "loopback localhost", listen: "localhost:8080", host: "localhost:9999", origin: "http://localhost:9999", want: 200},
		{name: "loopback [::1]", listen: "[::1]:8080", host: "[::1]:8080", want: 200},
		{name: "loopback listed", listen: "127.0.0.1:8080", hosts: []string{"mcp.test"}, host: "mcp.test:8080", origin: "http://mcp.test:8080", want: 200},
		{name: "loopback listed, foreign origin", listen: "127.0.0.1:8080", hosts: []string{"mcp.test"}, host: "mcp.test", origin: "http://" + evil, want: 403},
		{name: "loopback star", listen: "127.0.0.1:8080", hosts: []string{"*"}, host: evil, origin: "http://" + evil, want: 200},
		{name: "public any host", listen: "0.0.0.0:8080", host: evil, origin: "http://" + evil, want: 200},
		{name: "public listed", listen: ":8080", hosts: []string{"mcp.example.com"}, host: "mcp.example.com", want: 200},
		{name: "public not listed", listen: ":8080", hosts: []string{"mcp.example.com"}, host: evil, want: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{configure: func(c *gateway.Config) {
				c.Listen = tc.listen
				c.AllowedHosts = tc.hosts
				c.Auth.Mode = "none" // a public address needs a mode; the host check is the same in all
			}})
			extra := map[string]string{}
			if tc.host != "" {
				extra["Host"] = tc.host
			}
			switch tc.origin {
			case "":
			case "same":
				extra["Origin"] = h.server.URL
			default:
				extra["Origin"] = tc.origin
			}
			// A GET that passes opens a stream that stays open: only rejected ones are sent.
			methods := map[string]int{http.MethodPost: 200, http.MethodDelete: 204}
			if tc.want == 403 {
				methods = map[string]int{http.MethodPost: 403, http.MethodGet: 403, http.MethodDelete: 403}
			}
			for method, want := range methods {
				headers := mcpHeaders(extra)
				headers["Mcp-Session-Id"] = "sess-1"
				if method == http.MethodGet {
					headers["Accept"] = "text/event-stream"
				}
				body := rpc("json")
				if method != http.MethodPost {
					body = ""
				}
				resp, got := h.do(h.request(method, "/mcp", body, headers))
				if resp.StatusCode != want {
					t.Fatalf("%s: status %d, want %d (body %q)", method, resp.StatusCode, want, got)
				}
				if want == 403 {
					if e := parseRPCError(t, got); !strings.Contains(e.Error.Message, "Forbidden") {
						t.Errorf("%s: message %q", method, e.Error.Message)
					}
				}
			}
		})
	}
}

func TestMCPJSONFraming(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name        string
		contentType string
		accept      string
	}{
		{"plain", "application/json", "application/json, text/event-stream"},
		{"charset", "application/json; charset=utf-8", "application/json"},
		{"wildcard accept", "Application/JSON", "*/*"},
		{"application wildcard", "application/json", "application/*;q=0.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			req := h.request(http.MethodPost, "/mcp", rpc("json"), map[string]string{
				"Content-Type":         tc.contentType,
				"Accept":               tc.accept,
				"Mcp-Session-Id":       "sess-0",
				"MCP-Protocol-Version": "2025-11-25",
				"Mcp-Method":           "json",
				"Mcp-Name":             "n",
				"Last-Event-ID":        "ev-7",
				"mcp-param-Region":     "=?base64?SGVsbG8=?=",
			})
			resp, body := h.do(req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d (body %q)", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if sid := resp.Header.Get("Mcp-Session-Id"); sid != "sess-1" {
				t.Errorf("Mcp-Session-Id = %q", sid)
			}
			var got struct {
				ID     int `json:"id"`
				Result struct {
					Echo struct {
						Method string `json:"method"`
					} `json:"echo"`
				} `json:"result"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if got.ID != 1 || got.Result.Echo.Method != "json" {
				t.Errorf("body = %+v", got)
			}
			md := h.transport.meta()
			if md.GetSessionId() != "sess-0" || md.GetProtocolVersion() != "2025-11-25" || md.GetMcpMethod() != "json" ||
				md.GetMcpName() != "n" || md.GetLastEventId() != "ev-7" {
				t.Errorf("metadata = %v", md)
			}
			// Custom headers travel by their lower-cased name, values untouched.
			if p := md.GetParamHeaders(); len(p) != 1 || p["region"] != "=?base64?SGVsbG8=?=" {
				t.Errorf("param headers = %v", p)
			}
			if !md.GetAcceptsJson() {
				t.Errorf("accepts_json not set for Accept %q", tc.accept)
			}
		})
	}
}

func TestMCPNotificationHasNoBody(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.t = t
	resp, body := h.do(h.request(http.MethodPost, "/mcp", `{"jsonrpc":"2.0","method":"notify"}`, mcpHeaders(nil)))
	if resp.StatusCode != http.StatusAccepted || len(body) != 0 {
		t.Fatalf("status %d body %q, want 202 and no body", resp.StatusCode, body)
	}
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	id, data, comment string
	retry             int
}

// readEvent reads one event (or comment block) from an SSE stream.
func readEvent(r *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	var data []string
	seen := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if !seen {
				continue
			}
			ev.data = strings.Join(data, "\n")
			return ev, nil
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			ev.comment = value
		case "id":
			ev.id = value
		case "data":
			data = append(data, value)
		case "retry":
			ev.retry, _ = strconv.Atoi(value)
		}
	}
}

func TestMCPEventStreamFraming(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.t = t
	resp, err := h.client.Do(h.request(http.MethodPost, "/mcp", rpc("sse"), mcpHeaders(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
		"X-Accel-Buffering": "no", "Mcp-Session-Id": "sess-1",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	r := bufio.NewReader(resp.Body)
	first, err := readEvent(r)
	if err != nil || first.id != "e0" || first.retry != 1500 || first.data != "" {
		t.Fatalf("first event = %+v, %v; want the priming event: id e0, retry 1500, no data", first, err)
	}
	for i := 1; i <= 3; i++ {
		ev, err := readEvent(r)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.id != "e"+strconv.Itoa(i) || ev.retry != 0 {
			t.Errorf("event %d id = %q, retry %d", i, ev.id, ev.retry)
		}
		var msg map[string]json.RawMessage
		if err := json.Unmarshal([]byte(ev.data), &msg); err != nil {
			t.Fatalf("event %d data %q: %v", i, ev.data, err)
		}
		if _, ok := msg[map[bool]string{true: "result", false: "params"}[i == 3]]; !ok {
			t.Errorf("event %d = %s", i, ev.data)
		}
	}
	if _, err := readEvent(r); !errors.Is(err, io.EOF) {
		t.Errorf("stream did not end after the result: %v", err)
	}
}

// TestMCPEventStreamFlushes reads the first event while the transport holds the second
// back: without a flush per event the read would block until the test times out.
func TestMCPEventStreamFlushes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := h.request(http.MethodPost, "/mcp", rpc("step"), mcpHeaders(nil)).WithContext(ctx)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	ev, err := readEvent(r)
	if err != nil || ev.id != "s1" {
		t.Fatalf("first event = %+v, %v", ev, err)
	}
	close(h.transport.release)
	ev, err = readEvent(r)
	if err != nil || ev.id != "s2" {
		t.Fatalf("second event = %+v, %v", ev, err)
	}
}

func TestMCPTransportErrors(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		method string
		want   int
	}{
		{"unavailable", http.StatusServiceUnavailable},
		{"deadline", http.StatusGatewayTimeout},
		{"internal", http.StatusInternalServerError},
		{"headless", http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			h.t = t
			resp, body := h.do(h.request(http.MethodPost, "/mcp", rpc(tc.method), mcpHeaders(nil)))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			e := parseRPCError(t, body)
			if e.Error.Code != -32603 {
				t.Errorf("code %d, want -32603", e.Error.Code)
			}
			if strings.Contains(string(body), "10.9.8.7") || strings.Contains(string(body), "dial") {
				t.Errorf("body leaks internals: %q", body)
			}
			if !strings.Contains(e.Error.Message, "(id ") {
				t.Errorf("message %q carries no error id", e.Error.Message)
			}
		})
	}
}

func TestMCPDelete(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		session  string
		want     int
		wantBody bool
	}{
		{"sess-1", http.StatusNoContent, false},
		{"gone", http.StatusNotFound, true},
		{"down", http.StatusServiceUnavailable, true},
	}
	for _, tc := range tests {
		t.Run(tc.session, func(t *testing.T) {
			h.t = t
			resp, body := h.do(h.request(http.MethodDelete, "/mcp", "", map[string]string{"Mcp-Session-Id": tc.session}))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if !tc.wantBody {
				if len(body) != 0 {
					t.Errorf("unexpected body %q", body)
				}
				return
			}
			var e rpcError
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == 0 {
				t.Errorf("body %q is not a JSON-RPC error: %v", body, err)
			}
			if strings.Contains(string(body), "10.9.8.7") {
				t.Errorf("body leaks internals: %q", body)
			}
		})
	}
}

func TestMCPGetKeepaliveAndCancel(t *testing.T) {
	h := newHarness(t, harnessOptions{configure: func(c *gateway.Config) {
		c.KeepaliveInterval = 5 * time.Millisecond
	}})
	h.t = t
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := h.request(http.MethodGet, "/mcp", "", map[string]string{
		"Accept": "text/event-stream", "Mcp-Session-Id": "sess-1",
	}).WithContext(ctx)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	ev, err := readEvent(r)
	if err != nil || ev.id != "g1" {
		t.Fatalf("first event = %+v, %v", ev, err)
	}
	for i := 0; i < 2; i++ {
		ev, err := readEvent(r)
		if err != nil {
			t.Fatal(err)
		}
		if ev.comment != "keepalive" {
			t.Fatalf("want a keepalive comment, got %+v", ev)
		}
	}
	// The client leaves: the transport's Listen stream must see its context end.
	cancel()
	select {
	case <-h.transport.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the transport stream was not canceled after the client left")
	}
}

func TestMCPGetPassesTransportStatus(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.t = t
	resp, body := h.do(h.request(http.MethodGet, "/mcp", "", map[string]string{"Accept": "text/event-stream"}))
	if resp.StatusCode != http.StatusMethodNotAllowed || len(body) != 0 {
		t.Fatalf("status %d body %q, want the transport's 405", resp.StatusCode, body)
	}
}

// TestMCPPostCanceledByClient: a client leaving mid-stream cancels the transport call.
func TestMCPPostCanceledByClient(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.t = t
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := h.client.Do(h.request(http.MethodPost, "/mcp", rpc("hang"), mcpHeaders(nil)).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case <-h.transport.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the transport stream was not canceled after the client left")
	}
}

// The in-process channel hands the request to the transport without copying it, and
// the transport, the session and the provider may keep reading it (a cancelled call, a
// provider finishing after its result): the gateway must not reuse the request's
// memory for a later request.
func TestMCPRequestsAreNotReused(t *testing.T) {
	h := newHarness(t, harnessOptions{inProcess: true})
	h.t = t
	first := `{"jsonrpc":"2.0","id":1,"method":"json","params":{"n":"first"}}`
	if resp, body := h.do(h.request(http.MethodPost, "/mcp", first, mcpHeaders(map[string]string{"Mcp-Session-Id": "s1"}))); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	kept, meta := h.transport.body(), h.transport.meta()
	for i := range 5 {
		later := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"json","params":{"n":"lat-%d"}}`, i+2, i) // same length
		h.do(h.request(http.MethodPost, "/mcp", later, mcpHeaders(map[string]string{"Mcp-Session-Id": "s2"})))
	}
	if string(kept) != first {
		t.Errorf("the first request's body changed under the transport: %q", kept)
	}
	if meta.GetSessionId() != "s1" {
		t.Errorf("the first request's metadata changed under the transport: session %q", meta.GetSessionId())
	}
}

// TestMCPRejectsInvalidUTF8: a body that is not UTF-8 is a parse error (400, -32700)
// on /mcp in both generations and for batches, and on the legacy /messages route, and
// never reaches the transport (decoders would replace the bytes with U+FFFD).
func TestMCPRejectsInvalidUTF8(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	invalid := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"caf` + "\xe9" + `"}}}`
	stateless := mcpHeaders(map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"})
	stateful := mcpHeaders(map[string]string{"MCP-Protocol-Version": "2025-11-25", "Mcp-Session-Id": "sess-1"})

	// The gateway checks a legacy message's body before it asks the transport about
	// its connection, so no /sse stream is needed for the check to be seen.
	endpoint := "/messages?sessionId=legacy-1"

	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
	}{
		{"stateless", "/mcp", invalid, stateless},
		{"stateful", "/mcp", invalid, stateful},
		{"batch", "/mcp", "[" + invalid + "]", stateful},
		{"legacy messages", endpoint, invalid, mcpHeaders(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			resp, body := h.do(h.request(http.MethodPost, tc.path, tc.body, tc.headers))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 (body %q)", resp.StatusCode, body)
			}
			if e := parseRPCError(t, body); e.Error.Code != -32700 || !strings.Contains(e.Error.Message, "UTF-8") {
				t.Fatalf("error %+v, want -32700 naming UTF-8", e.Error)
			}
			if got := h.transport.body(); bytes.Contains(got, []byte("caf")) {
				t.Fatalf("the body reached the transport: %q", got)
			}
		})
	}
}
