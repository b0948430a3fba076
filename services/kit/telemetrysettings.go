package kit

import (
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// TelemetrySettings is what every service reports to: its logger, tracer provider and
// meter provider. Every service's constructor takes it in its Deps, so a process hands
// the same bundle to all of them (the OpenTelemetry Collector's
// component.TelemetrySettings plays the same part).
type TelemetrySettings struct {
	// Logger receives the service's log lines (nil: discarded).
	Logger *slog.Logger
	// TracerProvider and MeterProvider receive its spans and metrics (nil: none).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// WithDefaults fills what is nil with providers that discard everything, so a service
// never checks for nil.
func (t TelemetrySettings) WithDefaults() TelemetrySettings {
	if t.Logger == nil {
		t.Logger = slog.New(slog.DiscardHandler)
	}
	if t.TracerProvider == nil {
		t.TracerProvider = tracenoop.NewTracerProvider()
	}
	if t.MeterProvider == nil {
		t.MeterProvider = metricnoop.NewMeterProvider()
	}
	return t
}

// For is the bundle of one named service: its log lines carry service=name.
func (t TelemetrySettings) For(name string) TelemetrySettings {
	t = t.WithDefaults()
	t.Logger = t.Logger.With("service", name)
	return t
}
