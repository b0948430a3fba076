// Package httpmetrics observes the gateway's HTTP requests: it counts them by route
// pattern, method and status, times them, tracks open MCP event streams (all as
// OpenTelemetry instruments, served as Prometheus text by the process's exporter) and
// writes one access-log line per request on the routes that ask for it. Labels are
// bounded: routes are patterns registered by the gateway, methods outside a fixed set
// become OTHER.
package httpmetrics
