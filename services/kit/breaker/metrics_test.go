package breaker_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
)

type collected struct {
	states      map[string]int64 // provider -> state
	transitions map[string]int64 // provider/to -> count
}

func observe(t *testing.T, b *breaker.Breakers) *sdkmetric.ManualReader {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	if err := breaker.Observe(b, mp); err != nil {
		t.Fatal(err)
	}
	return reader
}

func collect(t *testing.T, reader *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := collected{states: map[string]int64{}, transitions: map[string]int64{}}
	str := func(s attribute.Set, k string) string { v, _ := s.Value(attribute.Key(k)); return v.AsString() }
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case "mcpmesh.provider.breaker.state":
				for _, p := range m.Data.(metricdata.Gauge[int64]).DataPoints {
					out.states[str(p.Attributes, "provider")] = p.Value
				}
			case "mcpmesh.provider.breaker.transitions":
				for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
					out.transitions[str(p.Attributes, "provider")+"/"+str(p.Attributes, "to")] = p.Value
				}
			}
		}
	}
	return out
}

func TestStateGauge(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}, breaker.Options{})
	reader := observe(t, b)
	if got := collect(t, reader).states; len(got) != 0 {
		t.Fatalf("states before any call: %v, want none", got)
	}
	_, _ = call(b, context.Background(), "down", errUnavailable)
	_, _ = call(b, context.Background(), "up", nil)
	m := collect(t, reader)
	want := map[string]int64{"down": 2, "up": 0}
	for p, v := range want {
		if m.states[p] != v {
			t.Errorf("state of %s = %d, want %d (all %v)", p, m.states[p], v, m.states)
		}
	}
	if m.transitions["down/open"] != 1 || len(m.transitions) != 1 {
		t.Errorf("transitions %v, want down/open once", m.transitions)
	}
	if err := breaker.Observe(b, sdkmetric.NewMeterProvider()); err == nil {
		t.Error("a second Observe of the same breakers must fail, not double count")
	}
}

// TestPrometheusNames pins the names operators see on /metrics, through the same
// exporter every process uses.
func TestPrometheusNames(t *testing.T) {
	tel, err := telemetry.Setup(context.Background(), telemetry.Settings{
		ServiceName: "mcpmesh-test", SampleRatio: 1, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}, breaker.Options{})
	if err := breaker.Observe(b, tel.MeterProvider()); err != nil {
		t.Fatal(err)
	}
	if err := b.Do(context.Background(), "weather", func() error { return errUnavailable }); !errors.Is(err, errUnavailable) {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	tests := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"mcpmesh_provider_breaker_state", map[string]string{"provider": "weather"}, 2},
		{"mcpmesh_provider_breaker_transitions_total", map[string]string{"provider": "weather", "to": "open"}, 1},
	}
	for _, tt := range tests {
		f := families[tt.family]
		if f == nil {
			t.Errorf("%s missing from /metrics", tt.family)
			continue
		}
		found := false
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			match := true
			for k, v := range tt.labels {
				match = match && labels[k] == v
			}
			if !match {
				continue
			}
			found = true
			var got float64
			if m.GetGauge() != nil {
				got = m.GetGauge().GetValue()
			} else {
				got = m.GetCounter().GetValue()
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.family, tt.labels, got, tt.want)
			}
		}
		if !found {
			t.Errorf("%s has no series with %v", tt.family, tt.labels)
		}
	}
}
