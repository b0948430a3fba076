package telemetry_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/goleak"

	"github.com/mcpmesh/mcpmesh/services/kit/buildinfo"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestExportsTraces(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{"console exporter", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
		{"none beats an endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, false},
		{"metrics endpoint only", map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:4317"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := telemetry.ExportsTraces(env(tt.vars)); got != tt.want {
				t.Fatalf("ExportsTraces = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetupRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name string
		s    telemetry.Settings
		want string
	}{
		{"no service name", telemetry.Settings{SampleRatio: 1}, "ServiceName"},
		{"ratio above one", telemetry.Settings{ServiceName: "x", SampleRatio: 1.5}, "telemetry.sample_ratio"},
		{"negative ratio", telemetry.Settings{ServiceName: "x", SampleRatio: -0.1}, "telemetry.sample_ratio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telemetry.Setup(context.Background(), tt.s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Setup error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func setup(t *testing.T) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.Setup(context.Background(), telemetry.Settings{
		ServiceName: "mcpmesh-test", SampleRatio: 1, Getenv: env(nil),
		Build: buildinfo.Info{Version: "v0.0.0-test", Commit: "0123abc", CommitDate: "2026-12-01T09:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

func TestNoExporterShutsDownAtOnce(t *testing.T) {
	tel := setup(t)
	if tel.Exporting() {
		t.Fatal("Exporting() = true with no OTEL_* variables")
	}
	_, span := tel.TracerProvider().Tracer("test").Start(context.Background(), "root")
	if !span.SpanContext().IsValid() {
		t.Fatal("a span without an exporter has no ids; logs could not join traces")
	}
	span.End()
	// A context that is already done: a flush that had anything to wait for would fail.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with no exporter: %v", err)
	}
}

func TestSampledParentIsHonouredWithoutExporter(t *testing.T) {
	tel := setup(t)
	defer func() { _ = tel.Shutdown(context.Background()) }()
	carrier := propagation.MapCarrier{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	ctx := tel.Propagator().Extract(context.Background(), carrier)
	_, span := tel.TracerProvider().Tracer("test").Start(ctx, "child")
	defer span.End()
	sc := span.SpanContext()
	if sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !sc.IsSampled() {
		t.Fatalf("child span context = %v sampled=%v, want the parent's trace, sampled", sc.TraceID(), sc.IsSampled())
	}
	if !span.IsRecording() {
		t.Fatal("a sampled child is not recorded")
	}
}

func TestMetricsHandlerServesPrometheusText(t *testing.T) {
	tel := setup(t)
	defer func() { _ = tel.Shutdown(context.Background()) }()
	counter, err := tel.MeterProvider().Meter("test").Int64Counter("mcpmesh.test.events")
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(context.Background(), 3)

	families, _ := scrape(t, tel)
	for _, name := range []string{"mcpmesh_test_events_total", "go_goroutines", "process_cpu_seconds_total", "target_info", "mcpmesh_build_info"} {
		if _, ok := families[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if f := families["mcpmesh_test_events_total"]; f != nil {
		if got := f.GetMetric()[0].GetCounter().GetValue(); got != 3 {
			t.Errorf("mcpmesh_test_events_total = %v, want 3", got)
		}
	}
	if f := families["mcpmesh_build_info"]; f != nil {
		got := map[string]string{}
		for _, l := range f.GetMetric()[0].GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		want := map[string]string{"version": "v0.0.0-test", "revision": "0123abc", "commit_date": "2026-12-01T09:00:00Z", "goversion": "go1.26.8", "platform": "linux/amd64"}
		if !maps.Equal(got, want) || f.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("mcpmesh_build_info = %v %v, want labels %v and value 1", got, f.GetMetric()[0].GetGauge().GetValue(), want)
		}
	}
	if f := families["target_info"]; f != nil {
		found := false
		for _, l := range f.GetMetric()[0].GetLabel() {
			if l.GetName() == "service_name" && l.GetValue() == "mcpmesh-test" {
				found = true
			}
		}
		if !found {
			t.Error("target_info lacks service_name=\"mcpmesh-test\"")
		}
	}
}

// scrape fetches MetricsHandler as Prometheus text and parses it.
func scrape(t *testing.T, tel *telemetry.Telemetry) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	srv := httptest.NewServer(tel.MetricsHandler())
	defer srv.Close()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q, want Prometheus text", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return families, string(body)
}

func TestServiceNameFromEnvironmentWins(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "mcpmesh-renamed")
	tel := setup(t)
	defer func() { _ = tel.Shutdown(context.Background()) }()
	families, _ := scrape(t, tel)
	for _, l := range families["target_info"].GetMetric()[0].GetLabel() {
		if l.GetName() == "service_name" {
			if l.GetValue() != "mcpmesh-renamed" {
				t.Fatalf("service_name = %q, want OTEL_SERVICE_NAME's", l.GetValue())
			}
			return
		}
	}
	t.Fatal("target_info has no service_name")
}
