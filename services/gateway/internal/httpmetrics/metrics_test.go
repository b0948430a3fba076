package httpmetrics

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestInstrument(t *testing.T) {
	base := func(method, route string, code int64) []attribute.KeyValue {
		return []attribute.KeyValue{
			attribute.String("http.request.method", method),
			attribute.String("url.scheme", "http"),
			attribute.String("http.route", route),
			attribute.Int64("http.response.status_code", code),
			attribute.String("network.protocol.name", "http"),
			attribute.String("network.protocol.version", "1.1"),
		}
	}
	tests := []struct {
		name    string
		method  string
		tls     bool
		handler http.HandlerFunc
		want    []attribute.KeyValue
	}{
		{"explicit status", http.MethodPost, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }, base("POST", "/r", 418)},
		{"implicit 200 by write", http.MethodGet, false, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("x")) }, base("GET", "/r", 200)},
		{"nothing written", http.MethodDelete, false, func(http.ResponseWriter, *http.Request) {}, base("DELETE", "/r", 200)},
		{"route refined", http.MethodGet, false, func(w http.ResponseWriter, _ *http.Request) { SetRoute(w, "/v1/tools") }, base("GET", "/v1/tools", 200)},
		{"odd method bounded", "BREW", false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, base("_OTHER", "/r", 404)},
		{"server error typed", http.MethodPost, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) },
			append(base("POST", "/r", 502), attribute.String("error.type", "502"))},
		{"https", http.MethodGet, true, func(http.ResponseWriter, *http.Request) {},
			append(base("GET", "/r", 200), attribute.String("url.scheme", "https"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			m, err := New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), nil)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tc.method, "/r", nil)
			// A client's Host header must not become an attribute.
			req.Host = "attacker.example:1234"
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			handler := m.Instrument("/r", tc.handler)
			handler.ServeHTTP(httptest.NewRecorder(), req)
			handler.ServeHTTP(httptest.NewRecorder(), req)
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			want := attribute.NewSet(tc.want...)
			var series int
			for _, sm := range rm.ScopeMetrics {
				for _, metric := range sm.Metrics {
					switch metric.Name {
					case "http.server.request.duration":
						if metric.Unit != "s" {
							t.Errorf("unit %q, want s", metric.Unit)
						}
						for _, p := range metric.Data.(metricdata.Histogram[float64]).DataPoints {
							if !p.Attributes.Equals(&want) || p.Count != 2 {
								t.Errorf("point %v count %d, want %v count 2", p.Attributes.ToSlice(), p.Count, want.ToSlice())
							}
							series++
						}
					case "mcpmesh.mcp.streams.open":
					default:
						t.Errorf("unexpected instrument %s", metric.Name)
					}
				}
			}
			if series != 1 {
				t.Errorf("%d duration series, want 1", series)
			}
		})
	}
}
