// Package federation presents upstream MCP servers (Streamable HTTP, legacy HTTP+SSE,
// or stdio commands it starts and supervises) to the mesh as ordinary providers: for
// each upstream it keeps an MCP client session (the official Go SDK's client), serves
// ProviderService for it under the upstream's name, and keeps that provider
// registered with the registry while the upstream answers. Names may be prefixed and
// filtered per upstream; calls go through a circuit breaker and a timeout per
// upstream; progress, log messages and cancellation cross the hop. Plain gRPC
// services (federation.grpc) are presented the same way, their methods as tools
// (internal/grpcsource, grpc.go). Upstreams can also be put and deleted at run time
// through UpstreamAdminService (admin.go), kept in an UpstreamStore (memory, or a
// PostgreSQL table followed by every replica) and reconciled by each replica
// (dynamic.go).
package federation
