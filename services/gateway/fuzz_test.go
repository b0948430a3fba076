package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzMCPHandler posts random bodies and header values through the whole handler with
// the in-test transport behind it: it must never panic, and every status must be one
// the gateway or the transport defines.
func FuzzMCPHandler(f *testing.F) {
	h := newHarness(f, harnessOptions{inProcess: true})
	handler := h.gateway.Handler()
	known := map[int]bool{200: true, 202: true, 400: true, 403: true, 404: true, 405: true, 406: true,
		413: true, 415: true, 500: true, 503: true, 504: true}

	f.Add([]byte(rpc("json")), "application/json", "application/json, text/event-stream", "", "", "")
	f.Add([]byte(rpc("sse")), "application/json; charset=utf-8", "text/event-stream", "", "sess-1", "2025-11-25")
	f.Add([]byte(`{"jsonrpc":"2.0","method":"notify"}`), "application/json", "*/*", "http://example.com", "", "")
	f.Add([]byte(rpc("unavailable")), "application/json", "application/*;q=0.1", "", "x", "")
	f.Add([]byte(`{`), "text/plain", "text/html", "null", "", "")
	f.Add([]byte(""), "application/json;;;", "application/json;q=0", "https://evil", "\x00", "\r\n")
	f.Add([]byte(strings.Repeat("[", 1000)), "Application/JSON", " , ,text/*", "http://gateway", "id", "v")

	f.Fuzz(func(t *testing.T, body []byte, contentType, accept, origin, sessionID, version string) {
		// Bound the rare body that names a waiting method of the test transport.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://gateway/mcp", strings.NewReader(string(body)))
		req.Header["Content-Type"] = []string{contentType}
		req.Header["Accept"] = []string{accept}
		if origin != "" {
			req.Header["Origin"] = []string{origin}
		}
		req.Header["Mcp-Session-Id"] = []string{sessionID}
		req.Header["Mcp-Protocol-Version"] = []string{version}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if !known[rec.Code] {
			t.Fatalf("status %d is not in the known set (body %q)", rec.Code, rec.Body.String())
		}
	})
}
