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
//     no-cache and X-Accel-Buffering: no); then for each Message: "id: <event_id>\n"
//     when event_id is non-empty, "retry: <retry_ms>\n" in the first event only when
//     head.retry_ms > 0, "data: <data>\n\n" (data is one line of compact JSON from the
//     session; the gateway must still split on newlines into several data: lines if
//     any appear; empty data is written "data:\n"), flushing after each event. The stream ends when the gRPC stream
//     ends: after the final response on Exchange, when the client or the session goes
//     away on Listen. The gateway should send ": keep-alive" comments on idle Listen
//     streams.
//
// Every Message.data is exactly one JSON-RPC message (a batch answer: one JSON array of
// them, see "Batches"), except the
// priming event: every stateful SSE stream (POST answers and GET) starts with a Message
// that has an event id and empty data (SEP-1699), so it goes out as
// "id: <id>\nretry: <retry_ms>\ndata:\n\n" and clients learn a Last-Event-ID at once.
// Event ids ("<stream-id>_<seq>") are set on every event of stateful SSE streams;
// stateless ones have none and no priming event.
// Cancelling the Exchange RPC (client disconnected) cancels the session's work.
//
// Close (DELETE): write CloseResponse.http_status; when body is non-empty (every non-2xx
// answer), write it with Content-Type: application/json.
//
// # Statuses and JSON-RPC codes
//
// Any POST (decoding, internal/jsonrpc):
//
//	malformed JSON, empty body                  400  -32700 "Parse error", no id
//	JSON array (batch), see "Batches" below     400  -32600 "... only supported for protocol
//	                                                  version 2025-03-26", no id
//	not an object; bad "jsonrpc"; bad method;
//	result/error on a request; bad response     400  -32600 (id echoed when it was valid)
//	id null / fractional / exponent / object    400  -32600, no id
//	params not an object                        400  -32602
//
// Generation: "initialize" is stateful; a _meta protocolVersion, a stateless
// MCP-Protocol-Version header, or an unknown header without Mcp-Session-Id is
// stateless; everything else is stateful.
//
// Stateful POST:
//
//	initialize OK                               200  JSON (SSE if only SSE accepted), head.session_id set
//	initialize as a notification                400  -32600
//	no Mcp-Session-Id                           400  -32600 "Bad Request: Mcp-Session-Id header is required"
//	unsupported MCP-Protocol-Version            400  -32600, data {"supported":[...],"requested":v}
//	(absent header: passed to the session as "", it uses the negotiated version)
//	request OK                                  200  JSON, or SSE when notifications precede the result
//	JSON-RPC error from the session             200  with the error
//	notification accepted                       202  FRAMING_NONE
//	client JSON-RPC response                    202  FRAMING_NONE (handed to session Respond)
//
// Stateless POST (2026-07-28), checked in this order:
//
//	MCP-Protocol-Version missing or != _meta    400  -32020
//	version not a stateless one                 400  -32022, data {"supported":[...],"requested":v}
//	_meta protocolVersion missing               400  -32602
//	Mcp-Method missing (requests) or != method  400  -32020
//	Mcp-Name missing or != params.name/uri      400  -32020 (tools/call, prompts/get, resources/read;
//	                                                  "=?base64?...?=" decoded first)
//	_meta clientCapabilities missing (requests) 400  -32602
//	client JSON-RPC response                    400  -32600
//	session error -32601                        404;  -32020/-32021/-32022: 400; other codes: 200
//	notification accepted                       202  FRAMING_NONE
//	SSE events carry no event ids; head.session_id is never set.
//
// Batches (a JSON array body): only on a stateful session that negotiated 2025-03-26
// (checked with GetSession; an MCP-Protocol-Version header other than 2025-03-26 is
// refused at once). Checked in this order, each answered as a whole, with no id:
//
//	malformed JSON                              400  -32700
//	empty array                                 400  -32600 "empty batch"
//	version header not 2025-03-26               400  -32600 "only supported for ... 2025-03-26"
//	initialize inside                           400  -32600
//	no Mcp-Session-Id                           400  -32600
//	unknown session                             404  -32600
//	session negotiated another version          400  -32600 "... (this session uses <v>)"
//
// Then notifications go to the session first, in order; client responses are dropped;
// requests run concurrently (at most 8 at once). The answer is 200 with one JSON array
// holding a response per request, in request order (an element that is not a valid
// message gets its -32600/-32602 error in place; session failures become -32603 etc.
// errors with the request's id); an SSE-only client gets the array as the one event
// after the priming event. Nothing to answer (only notifications or responses): 202.
// Progress and log notifications of batched requests are dropped.
//
// Session gRPC failures (any call), before anything was written; after an SSE head the
// same JSON-RPC error becomes the last event:
//
//	NOT_FOUND                                   404  -32600 "Session not found: re-initialize"
//	FAILED_PRECONDITION                         400  -32600 (session's message)
//	INVALID_ARGUMENT                            200  -32602 (session's message); 400 on GET/DELETE
//	UNAUTHENTICATED / PERMISSION_DENIED         401 / 403  -32600
//	RESOURCE_EXHAUSTED                          429  -32603
//	UNAVAILABLE, CANCELED                       503  -32603
//	DEADLINE_EXCEEDED (incl. handle_timeout)    504  -32603
//	anything else, or no result                 500  -32603 "Internal error"
//
// GET (Listen) and DELETE (Close): stateless version header 405 (GET: no body; DELETE:
// an error body), unsupported version 400 (-32600 with data), no session id 400,
// unknown session 404; then GET streams 200 SSE until the client leaves or the
// session is deleted, and DELETE answers 204.
//
// # The 2024-11-05 HTTP+SSE transport
//
// GET /sse is LegacyConnect: the session service opens a connection
// (OpenConnection) and reserves its id; the head carries it as session_id, for the
// gateway's "endpoint" event (/messages?sessionId=<id>), and every Message after it is
// one "message" event (no event ids, no resumability). POST /messages is LegacyPost
// on any replica: 404 (FRAMING_NONE) when no session or open connection has the id,
// else 202, after which the body runs as an ordinary stateful exchange (initialize
// gives the session the connection's id) whose messages are recorded on the
// connection with session Publish; the replica holding the connection's stream reads
// them from the event store (PostgreSQL NOTIFY wakes it). The gateway keeps the
// LegacyPost stream open until it ends, so the message runs within an RPC. The
// session ends with the connection's stream.
package transport
