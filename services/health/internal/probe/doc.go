// Package probe runs one health check against one address (grpc.health.v1 or an HTTP
// /healthz) and describes the outcome in a few words for people, without internals.
package probe
