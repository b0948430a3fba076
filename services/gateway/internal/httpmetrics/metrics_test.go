package httpmetrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
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
			reader := sdkmetric.NewManualReader()
			m, err := New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), nil)
			if err != nil {
				t.Fatal(err)
			}
			m.Instrument("/r", tc.handler).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, "/r", nil))
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			var counted, timed int
			for _, sm := range rm.ScopeMetrics {
				for _, metric := range sm.Metrics {
					switch metric.Name {
					case "mcpmesh.http.requests":
						for _, p := range metric.Data.(metricdata.Sum[int64]).DataPoints {
							want := attribute.NewSet(attribute.String("route", tc.wantRoute), attribute.String("method", tc.wantVerb), attribute.String("code", tc.wantCode))
							if !p.Attributes.Equals(&want) || p.Value != 1 {
								t.Errorf("requests point %v = %d, want %v = 1", p.Attributes.ToSlice(), p.Value, want.ToSlice())
							}
							counted++
						}
					case "mcpmesh.http.request.duration":
						for _, p := range metric.Data.(metricdata.Histogram[float64]).DataPoints {
							if p.Count != 1 {
								t.Errorf("duration count %d", p.Count)
							}
							timed++
						}
					}
				}
			}
			if counted != 1 || timed != 1 {
				t.Errorf("%d request series and %d duration series, want 1 and 1", counted, timed)
			}
		})
	}
}
