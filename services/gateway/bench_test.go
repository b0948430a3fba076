package gateway_test

import (
	"bytes"
	"io"
	"log/slog"
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
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkMCPPostJSONAccessLog is BenchmarkMCPPostJSON with the access log written
// as JSON (to io.Discard): the cost of gateway.access_log per request.
func BenchmarkMCPPostJSONAccessLog(b *testing.B) {
	h := newHarness(b, harnessOptions{inProcess: true, logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}) //nolint:sloglint // formatting the access log is part of what the benchmark measures
	handler := h.gateway.Handler()
	body := []byte(rpc("json"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
