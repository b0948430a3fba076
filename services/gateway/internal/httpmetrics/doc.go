// Package httpmetrics observes the gateway's HTTP requests: it times them as the
// HTTP semantic conventions' http.server.request.duration (whose count is the request
// count) by route pattern, method and status, tracks open MCP event streams (both as
// OpenTelemetry instruments, served as Prometheus text by the process's exporter) and
// writes one access-log line per request on the routes that ask for it. Attributes are
// bounded: routes are patterns registered by the gateway, methods outside a fixed set
// become _OTHER, and nothing is taken from the Host header.
package httpmetrics
