package grpcserver

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// InProcessTelemetry is what the in-process channel records its calls with: for each
// side of a call the span and the rpc.*.call.duration measurement that a network call
// records (kit/rpcstats, which the network hops' stats handlers use too).
type InProcessTelemetry struct {
	// TracerProvider starts the spans; nil starts none.
	TracerProvider trace.TracerProvider
	// MeterProvider holds the duration histograms; nil records none.
	MeterProvider metric.MeterProvider
}
