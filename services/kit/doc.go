// Package kit is what every mcpmesh service shares: configuration loading, logging,
// the telemetry bundle every service's Deps takes (TelemetrySettings), the lifecycle
// of a service (lifecycle) and the pacing of its retries (backoff), gRPC server and
// client setup (including in-process connections for -target=all) and graceful
// shutdown. Its sub-packages import nothing from the services.
package kit
