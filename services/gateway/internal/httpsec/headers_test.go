package httpsec_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/gateway/internal/httpsec"
)

func serve(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	h := httpsec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Mcp-Session-Id", "s1")
		_, _ = w.Write([]byte("ok"))
	}), httpsec.CORS{AllowedOrigins: []string{"https://app.example.com"}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	resp := serve(t, httptest.NewRequest(http.MethodGet, "/v1/tools", nil))
	want := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plaintext")
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/tools", nil)
	req.TLS = &tls.ConnectionState{}
	if got := serve(t, req).Header.Get("Strict-Transport-Security"); got == "" {
		t.Error("no HSTS over TLS")
	}
}

func TestCORS(t *testing.T) {
	preflight := func(origin string) *http.Response {
		req := httptest.NewRequest(http.MethodOptions, "/mcp", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		return serve(t, req)
	}
	ok := preflight("https://app.example.com")
	if ok.StatusCode != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		ok.Header.Get("Access-Control-Allow-Headers") == "" {
		t.Fatalf("allowed preflight: %d %v", ok.StatusCode, ok.Header)
	}
	bad := preflight("https://evil.example.com")
	if bad.StatusCode != http.StatusForbidden || bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", bad.StatusCode, bad.Header)
	}

	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp := serve(t, req)
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		resp.Header.Get("Access-Control-Expose-Headers") != "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate" {
		t.Fatalf("allowed origin: %v", resp.Header)
	}
	req = httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Origin", "https://evil.example.com")
	if got := serve(t, req).Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("foreign origin got Access-Control-Allow-Origin %q", got)
	}
}

// The fixed headers are shared values: a handler that adds to or replaces one changes
// its own answer only.
func TestHandlersCannotChangeTheSharedHeaders(t *testing.T) {
	h := httpsec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/changes" {
			w.Header().Add("Cache-Control", "private")
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		}
		_, _ = w.Write([]byte("ok"))
	}), httpsec.CORS{})
	get := func(path string) http.Header {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Result().Header
	}
	changed := get("/changes")
	if got := changed.Values("Cache-Control"); len(got) != 2 || changed.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Fatalf("the handler's own changes: Cache-Control %q, X-Frame-Options %q", got, changed.Get("X-Frame-Options"))
	}
	next := get("/plain")
	if got := next.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" || next.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("the next answer: Cache-Control %q, X-Frame-Options %q", got, next.Get("X-Frame-Options"))
	}
}
