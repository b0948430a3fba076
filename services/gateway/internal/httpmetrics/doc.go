// Package httpmetrics counts the gateway's HTTP requests by route pattern, method and
// status, times them, and tracks open MCP event streams. Labels are bounded: routes are
// patterns registered by the gateway, methods outside a fixed set become OTHER.
package httpmetrics
