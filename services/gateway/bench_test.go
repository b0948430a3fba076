package gateway_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkMCPPostJSON measures the gateway's share of a JSON-framed POST over the
// in-process channel (the transport is the in-test one).
func BenchmarkMCPPostJSON(b *testing.B) {
	h := newHarness(b, harnessOptions{inProcess: true})
	handler := h.gateway.Handler()
	body := []byte(rpc("json"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "http://gateway/mcp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
