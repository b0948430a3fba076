// Package session is mcpmesh's session service: it holds MCP semantics. The transport
// calls it with decoded messages; it negotiates versions and keeps session records for
// the stateful generation, serves list calls from the catalogue it watches on the
// registry, routes tools/call, resources/read, prompts/get and completion/complete
// straight to providers, and answers with MCP result objects, notifications and
// JSON-RPC error objects (never envelopes). The REST API's calls arrive as the unary
// CallTool, ReadResource and GetPrompt and run on the same dispatcher (call.go); its
// listings arrive as ListTools and siblings and are cut on the dispatcher's list path,
// policy filter included (list.go).
//
// This package holds the gRPC handlers and their edge (errors.go, telemetry.go);
// internal/backend wires what they work on (every store in memory or PostgreSQL, the
// NOTIFY handlers, breakers, catalogue watch, dispatcher); internal/dispatch runs MCP
// requests; internal/tasks keeps and runs MCP tasks.
//
// gRPC status codes are kept for what the transport must turn into HTTP statuses:
// NotFound (unknown or expired session: 404), FailedPrecondition (protocol version
// differs from the session's: 400), InvalidArgument (malformed initialize params or
// request framing: -32602), Canceled (the client cancelled: send nothing more),
// Unavailable (the session store's database is unreachable: "session store
// unavailable, retry", for a 503 the client may retry on any replica).
// Everything the client should read as a JSON-RPC error arrives as an error event
// (the unary calls of call.go carry it as a status with the same message instead).
//
// JSON-RPC errors of tools/call worth knowing: -32602 for arguments that fail the tool's
// inputSchema (message and data name the instance path and keyword) and for a forged,
// expired or misdirected requestState; -32603 for structuredContent that fails the
// outputSchema (a provider bug), for a provider that did not answer ("is unavailable")
// or not within session.tool_call_timeout ("timed out"); -32021 when a provider asks a
// 2026-07-28 client for input it did not declare in _meta clientCapabilities, or fails
// with that code itself (kit/rpcstatus: a federated upstream's own check). A
// provider's request for client input reaches a stateful client as server-to-client
// requests on the request's stream (the input_required adapter,
// internal/dispatch/clientinput.go), and the answers come back through Respond.
//
// Session records live in memory by default, or in PostgreSQL when Deps.DB is set
// (tables created by Migrate); then any replica serves any session, reads go through a
// short cache invalidated by LISTEN/NOTIFY, and notifications reach the replica that
// holds a client's stream the same way.
package session
