package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends every kind of bad request the issue lists and checks the status,
// the JSON-RPC error code, and that the mesh still serves afterwards.
func TestBadInput(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	c := rec.Client()
	s := initialize(t, c, m.base, "2025-11-25")
	deleted := initialize(t, c, m.base, "2025-11-25")
	resp := do(t, c, http.MethodDelete, m.base+"/mcp", "", map[string]string{"Mcp-Session-Id": deleted.id, "MCP-Protocol-Version": deleted.version})
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("DELETE status %d", resp.StatusCode)
	}

	rpc := []struct {
		name    string
		session rawSession
		body    string
		headers map[string]string
		status  int
		code    int
	}{
		{"malformed JSON", s, `{"jsonrpc":"2.0","id":1,"method":`, nil, http.StatusBadRequest, -32700},
		{"not a JSON-RPC request", s, `{"hello":"world"}`, nil, http.StatusBadRequest, -32600},
		{"wrong jsonrpc version", s, `{"jsonrpc":"1.0","id":1,"method":"ping"}`, nil, http.StatusBadRequest, -32600},
		{"unknown method", s, `{"jsonrpc":"2.0","id":2,"method":"no/such/method"}`, nil, http.StatusOK, -32601},
		{"bad params", s, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":42}}`, nil, http.StatusOK, -32602},
		{"unknown tool", s, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope","arguments":{}}}`, nil, http.StatusOK, -32602},
		{"bad cursor", s, `{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"cursor":"!!not-a-cursor!!"}}`, nil, http.StatusOK, -32602},
		{"missing session id", s, `{"jsonrpc":"2.0","id":6,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": ""}, http.StatusBadRequest, -32600},
		{"unknown session", s, `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": "no-such-session"}, http.StatusNotFound, -32600},
		{"deleted session", deleted, `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`, nil, http.StatusNotFound, -32600},
		{"unsupported protocol version", s, `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`, map[string]string{"MCP-Protocol-Version": "1999-01-01"}, http.StatusBadRequest, -32600},
	}
	for _, tt := range rpc {
		t.Run(tt.name, func(t *testing.T) {
			out := expectError(t, tt.session.post(t, tt.body, tt.headers), tt.status, tt.code)
			if tt.name == "unsupported protocol version" && !strings.Contains(string(out.Error.Data)+out.Error.Message, "2025-11-25") {
				t.Errorf("error does not list the supported versions: %+v", out.Error)
			}
		})
	}

	httpLevel := []struct {
		name    string
		body    string
		headers map[string]string
		status  int
	}{
		{"body over the limit", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 4<<20) + `"}}`, nil, http.StatusRequestEntityTooLarge},
		{"no acceptable Accept", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Accept": "text/html"}, http.StatusNotAcceptable},
		{"wrong content type", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"foreign origin", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
	}
	for _, tt := range httpLevel {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.post(t, tt.body, tt.headers)
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (body %s)", resp.StatusCode, tt.status, b)
			}
		})
	}

	t.Run("the next request works", func(t *testing.T) {
		resp := s.post(t, `{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"echo","arguments":{"message":"still here"}}}`, nil)
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Error != nil || !strings.Contains(string(out.Result), "still here") {
			t.Fatalf("after bad input: %+v %v", out, err)
		}
	})
}
