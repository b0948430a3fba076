package httpmetrics

import (
	"log/slog"
	"net/http"
	"time"
)

// logAccess writes the access-log line of one finished request. The session id is
// not logged (no other log line carries it, and it is a bearer of the session): only
// whether the request had one. The MCP method comes from the Mcp-Method header
// (2026-07-28 clients send it); the body is not parsed a second time to find it.
// The trace and span ids come from the context (logging.WithTraceIDs).
func (m *Metrics) logAccess(r *http.Request, code int, bytes int64, elapsed time.Duration) {
	ctx := r.Context()
	if !m.accessLog.Enabled(ctx, slog.LevelInfo) {
		return
	}
	m.accessLog.LogAttrs(ctx, slog.LevelInfo, "http request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("mcp_method", firstHeader(r.Header, "Mcp-Method")),
		slog.Int("status", code),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int64("bytes", bytes),
		slog.Bool("session", firstHeader(r.Header, "Mcp-Session-Id") != ""),
	)
}

// firstHeader reads a header by its canonical key.
func firstHeader(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
