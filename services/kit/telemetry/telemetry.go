package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/mcpmesh/mcpmesh/services/kit/buildinfo"
	"github.com/mcpmesh/mcpmesh/services/kit/rpcstats"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/mcpmesh/mcpmesh/services/kit"
)

// Settings describe the process being instrumented.
type Settings struct {
	// ServiceName is the service.name resource attribute (for example "mcpmesh-session").
	ServiceName string
	// Build is the binary's build: its version is the service.version resource
	// attribute, and all of it the labels of the mcpmesh_build_info gauge.
	Build buildinfo.Info
	// Logger receives exporter errors; nil discards them.
	Logger *slog.Logger
	// SampleRatio is the share of new traces recorded, 0 to 1. Requests that arrive
	// with a parent follow the parent's decision.
	SampleRatio float64
	// SpanExporter, when set, receives every span synchronously instead of the
	// exporter the OTEL_* variables choose (tests use an in-memory one).
	SpanExporter sdktrace.SpanExporter
	// Getenv reads the OTEL_* variables; nil means os.Getenv. The exporter itself
	// (autoexport and the OTLP exporters) always reads the process environment.
	Getenv func(string) string
}

// Telemetry holds the providers of one process; build one with Setup.
type Telemetry struct {
	sdkTracer *sdktrace.TracerProvider
	// tracer is sdkTracer as every instrumentation gets it (unsampledParentsFollowed).
	tracer trace.TracerProvider
	// rpc records the gRPC calls of the stats handlers.
	rpc        *rpcstats.Recorder
	meter      *sdkmetric.MeterProvider
	registry   *prometheus.Registry
	propagator propagation.TextMapPropagator
	exporting  bool
	logger     *slog.Logger
}

// Setup builds the providers. A span exporter is installed only when
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
// OTEL_TRACES_EXPORTER (other than "none") is set; otherwise spans still carry ids
// (for logs and propagation) but new traces are not recorded, and Shutdown returns at
// once.
func Setup(ctx context.Context, s Settings) (*Telemetry, error) {
	if s.ServiceName == "" {
		return nil, errors.New("telemetry: ServiceName is required")
	}
	if s.SampleRatio < 0 || s.SampleRatio > 1 {
		return nil, fmt.Errorf("telemetry.sample_ratio %v: want a number from 0 to 1", s.SampleRatio)
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Later detectors win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the
	// names given here, as operators expect.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(
			attribute.String("service.name", s.ServiceName),
			attribute.String("service.version", s.Build.Version),
		),
		resource.WithFromEnv(),
	)
	if err != nil && res == nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}

	t := &Telemetry{
		registry:   prometheus.NewRegistry(),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		exporting:  s.SpanExporter != nil || ExportsTraces(getenv),
		logger:     logger,
	}
	t.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfoGauge(s.Build),
	)
	promExporter, err := otelprom.New(
		otelprom.WithRegisterer(t.registry),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry prometheus exporter: %w", err)
	}
	t.meter = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(promExporter))

	traceOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	switch {
	case s.SpanExporter != nil:
		traceOpts = append(traceOpts,
			sdktrace.WithSyncer(s.SpanExporter),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.SampleRatio))),
		)
	case t.exporting:
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			_ = t.meter.Shutdown(ctx)
			return nil, fmt.Errorf("telemetry span exporter: %w", err)
		}
		traceOpts = append(traceOpts,
			sdktrace.WithBatcher(exp),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.SampleRatio))),
		)
	default:
		// With nowhere to send spans, recording them is waste: new traces get ids (so
		// logs and peers can correlate) but are not recorded. A parent that asks for
		// sampling is still honoured, so the flag travels on to processes that export.
		traceOpts = append(traceOpts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	}
	t.sdkTracer = sdktrace.NewTracerProvider(traceOpts...)
	t.tracer = unsampledParentsFollowed{sdk: t.sdkTracer}
	t.rpc = rpcstats.New(t.tracer, t.meter)
	return t, nil
}

// ExportsTraces reports whether the OTEL_* variables read by getenv ask for a span
// exporter.
func ExportsTraces(getenv func(string) string) bool {
	switch getenv("OTEL_TRACES_EXPORTER") {
	case "none":
		return false
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	default:
		return true
	}
}

// Exporting reports whether spans are exported.
func (t *Telemetry) Exporting() bool { return t.exporting }

// TracerProvider is the process's tracer provider.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tracer }

// MeterProvider is the process's meter provider; its metrics appear at MetricsHandler.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.meter }

// Propagator injects and extracts W3C trace context and baggage.
func (t *Telemetry) Propagator() propagation.TextMapPropagator { return t.propagator }

// Registry is the Prometheus registry that MetricsHandler serves. Collectors written
// with client_golang may register here too (names must not collide).
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// MetricsHandler serves every metric of the process as Prometheus text.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(t.logger.Handler(), slog.LevelWarn),
	})
}

// Settings is the bundle every service's Deps takes: logger and the process's
// tracer and meter providers.
func (t *Telemetry) Settings(logger *slog.Logger) kit.TelemetrySettings {
	return kit.TelemetrySettings{Logger: logger, TracerProvider: t.tracer, MeterProvider: t.meter}
}

// GRPCServerStatsHandler instruments the server side of gRPC calls: one span per
// call (child of the caller's span) and the rpc.server.* metrics, as otelgrpc's
// server handler records them (kit/rpcstats). kit/grpcserver applies it to network
// calls; its in-process channel records the same with the same recorder.
func (t *Telemetry) GRPCServerStatsHandler() stats.Handler {
	return rpcstats.NewServerHandler(t.rpc, t.propagator)
}

// GRPCClientStatsHandler instruments the client side of gRPC calls: one span per
// call, its context sent to the server, and the rpc.client.* metrics.
func (t *Telemetry) GRPCClientStatsHandler() stats.Handler {
	return rpcstats.NewClientHandler(t.rpc, t.propagator)
}

// GRPCServerOption instruments a gRPC server with GRPCServerStatsHandler.
func (t *Telemetry) GRPCServerOption() grpc.ServerOption {
	return grpc.StatsHandler(t.GRPCServerStatsHandler())
}

// GRPCDialOption instruments gRPC client connections with GRPCClientStatsHandler.
func (t *Telemetry) GRPCDialOption() grpc.DialOption {
	return grpc.WithStatsHandler(t.GRPCClientStatsHandler())
}

// Shutdown flushes pending spans and stops the providers, bounded by ctx. Without an
// exporter it returns at once.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if err := t.sdkTracer.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down tracer provider: %w", err))
	}
	if err := t.meter.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down meter provider: %w", err))
	}
	return errors.Join(errs...)
}

// buildInfoGauge is mcpmesh_build_info: always 1, its labels name the build, so that
// dashboards can show which version each replica runs (and a mixed fleet during an
// upgrade).
func buildInfoGauge(b buildinfo.Info) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "mcpmesh_build_info",
		Help:        "The build of this mcpmesh process (always 1): version, git revision and its date, Go version, platform.",
		ConstLabels: b.Labels(),
	}, func() float64 { return 1 })
}
