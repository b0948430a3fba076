// Package telemetry sets up OpenTelemetry for one mcpmesh process: a TracerProvider
// whose exporter is chosen by the standard OTEL_* environment variables (and only
// installed when one is configured, so shutdown never waits for an unreachable
// collector), W3C trace-context and baggage propagation, and a MeterProvider whose
// metrics are served as Prometheus text together with Go runtime and process metrics.
//
// Nothing here touches the OpenTelemetry globals: services receive the providers
// through their constructors.
package telemetry
