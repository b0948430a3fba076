package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"go.opentelemetry.io/otel/metric/noop"
)

func as(subject, method string) *http.Request {
	r := httptest.NewRequest(method, "/mcp", nil)
	return r.WithContext(principal.NewContext(r.Context(), &principal.Principal{Subject: subject, Issuer: "https://idp.test"}))
}

func reject(w http.ResponseWriter, _ *http.Request, reason string) {
	http.Error(w, reason, http.StatusTooManyRequests)
}

func TestPerPrincipalRate(t *testing.T) {
	l, err := NewPerPrincipal(1, 2, 0, noop.NewMeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), reject)
	codes := func(subject string, n int) []int {
		var out []int
		for range n {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, as(subject, http.MethodPost))
			out = append(out, rec.Code)
			if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
		return out
	}
	alice := codes("alice", 3)
	if alice[0] != 200 || alice[1] != 200 || alice[2] != http.StatusTooManyRequests {
		t.Fatalf("alice (burst 2): %v", alice)
	}
	if bob := codes("bob", 2); bob[0] != 200 || bob[1] != 200 {
		t.Fatalf("bob has his own bucket: %v", bob)
	}
}

func TestPerPrincipalConcurrency(t *testing.T) {
	l, err := NewPerPrincipal(0, 0, 1, noop.NewMeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	entered := make(chan struct{})
	h := l.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Block") != "" {
			close(entered)
			<-release
		}
	}), reject)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := as("alice", http.MethodPost)
		r.Header.Set("X-Block", "1")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}()
	<-entered
	key := (&principal.Principal{Subject: "alice", Issuer: "https://idp.test"}).Key()
	if l.active(key) != 1 {
		t.Fatalf("active = %d", l.active(key))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, as("alice", http.MethodPost))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("second call at once: %d, want 429", rec.Code)
	}
	for _, r := range []*http.Request{as("alice", http.MethodGet), as("bob", http.MethodPost)} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: %d, want 200 (streams and other callers are not bounded by alice's calls)", r.Method, principalOf(r), rec.Code)
		}
	}
	close(release)
	<-done
	if l.active(key) != 0 {
		t.Fatalf("slot not given back: %d", l.active(key))
	}
}

func principalOf(r *http.Request) string {
	p, _ := principal.FromContext(r.Context())
	return p.Subject
}

func TestPerPrincipalOff(t *testing.T) {
	l, err := NewPerPrincipal(0, 0, 0, noop.NewMeterProvider())
	if err != nil || l != nil {
		t.Fatalf("no bounds: %v %v, want nil", l, err)
	}
}
