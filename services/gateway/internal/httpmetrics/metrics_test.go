package httpmetrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestInstrument(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		handler   http.HandlerFunc
		wantRoute string
		wantCode  string
		wantVerb  string
	}{
		{"explicit status", http.MethodPost, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }, "/r", "418", "POST"},
		{"implicit 200 by write", http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("x")) }, "/r", "200", "GET"},
		{"nothing written", http.MethodDelete, func(http.ResponseWriter, *http.Request) {}, "/r", "200", "DELETE"},
		{"route refined", http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { SetRoute(w, "/v1/tools") }, "/v1/tools", "200", "GET"},
		{"odd method bounded", "BREW", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, "/r", "404", "OTHER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m, err := New(reg)
			if err != nil {
				t.Fatal(err)
			}
			m.Instrument("/r", tc.handler).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, "/r", nil))
			if got := testutil.ToFloat64(m.requests.WithLabelValues(tc.wantRoute, tc.wantVerb, tc.wantCode)); got != 1 {
				t.Errorf("requests{%s,%s,%s} = %v, want 1", tc.wantRoute, tc.wantVerb, tc.wantCode, got)
			}
			if n := testutil.CollectAndCount(m.requests); n != 1 {
				t.Errorf("%d series, want 1", n)
			}
			if n := testutil.CollectAndCount(m.duration); n != 1 {
				t.Errorf("%d duration series, want 1", n)
			}
		})
	}
}

func TestNewRejectsDoubleRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg); err == nil {
		t.Fatal("a second gateway on the same registry must fail, not double count")
	}
}
