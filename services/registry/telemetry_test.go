package registry

import (
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

func TestObserveReportsTheCatalogue(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	h := newHarness(t, DefaultConfig(), func(d *Deps) {
		d.Telemetry.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	})
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo", "add"), Prompts: prompts("greet")}))
	h.register(t, "alpha", addr, 0)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			gauge, ok := m.Data.(metricdata.Gauge[int64])
			if !ok {
				t.Fatalf("%s is %T, want an int64 gauge", m.Name, m.Data)
			}
			for _, dp := range gauge.DataPoints {
				name := m.Name
				if kind, ok := dp.Attributes.Value("kind"); ok {
					name += "/" + kind.AsString()
				}
				got[name] = dp.Value
			}
		}
	}
	want := map[string]int64{
		"mcpmesh.registry.providers":                  1,
		"mcpmesh.registry.catalogue.entries/tool":     2,
		"mcpmesh.registry.catalogue.entries/prompt":   1,
		"mcpmesh.registry.catalogue.entries/resource": 0,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %d, want %d (all: %v)", name, got[name], v, got)
		}
	}
	if got["mcpmesh.registry.catalogue.revision"] < 1 {
		t.Errorf("revision = %d, want it to have moved", got["mcpmesh.registry.catalogue.revision"])
	}
}
