// Package transport is the MCP wire of mcpmesh. The gateway does the HTTP-level checks
// (method, Content-Type 415, Accept 406, body size 413, Origin 403) and hands each
// request to TransportService; the transport decodes the JSON-RPC message, chooses the
// protocol generation (stateful 2025-03-26..2025-11-25 or stateless 2026-07-28),
// applies that generation's header rules, calls the session service and tells the
// gateway exactly what to write.
//
// # Contract with the gateway
//
// RequestMetadata: session_id = Mcp-Session-Id, protocol_version = MCP-Protocol-Version,
// mcp_method = Mcp-Method, mcp_name = Mcp-Name (raw, base64 sentinel not decoded),
// accepts_json / accepts_event_stream from Accept, last_event_id = Last-Event-ID; all as
// received, empty when absent.
//
// Exchange (POST) and Listen (GET) streams: the first event is always a ResponseHead
// (unless the RPC fails with a gRPC error, which happens only when the caller's context
// ended; the gateway then has no client to write to). The gateway writes:
//   - status line: head.http_status;
//   - Mcp-Session-Id: head.session_id when non-empty (only the answer to initialize);
//   - FRAMING_NONE: no body and no Content-Type (202 Accepted, 405). No Message follows.
//   - FRAMING_JSON: Content-Type: application/json; exactly one Message follows, whose
//     data is the whole body. Error statuses (4xx/5xx) always use this framing.
//   - FRAMING_EVENT_STREAM: Content-Type: text/event-stream (plus Cache-Control:
//     no-cache and X-Accel-Buffering: no); if head.retry_ms > 0, first write
//     "retry: <retry_ms>\n\n"; then for each Message: "id: <event_id>\n" when event_id
//     is non-empty, "data: <data>\n\n" (data is one line of compact JSON from the
//     session; the gateway must still split on newlines into several data: lines if
//     any appear), flushing after each event. The stream ends when the gRPC stream
//     ends: after the final response on Exchange, when the client or the session goes
//     away on Listen. The gateway should send ": keep-alive" comments on idle Listen
//     streams.
//
// Every Message.data is exactly one JSON-RPC message (never a batch). Event ids
// ("<stream-id>_<seq>") are set only on stateful SSE streams; stateless ones have none.
// Cancelling the Exchange RPC (client disconnected) cancels the session's work.
//
// Close (DELETE): write CloseResponse.http_status; when body is non-empty (every non-2xx
// answer), write it with Content-Type: application/json.
//
// See the service README-in-code in internal/server and internal/wire for the status
// and error-code rules of each generation.
package transport
