// Package gateway is the HTTP edge of mcpmesh: the MCP endpoint /mcp (Streamable HTTP
// with JSON and SSE framing), the grpc-gateway REST API under /v1/, /openapi.json, the
// probes /healthz /readyz /startupz and /metrics. It holds no state: every MCP exchange
// is handed to the transport service, every REST call to registry, session or health.
package gateway
