// Package stdio is `mcpmesh stdio`: a bridge that lets an MCP client which can only
// launch local stdio servers use a remote mesh.
//
// It reads newline-delimited JSON-RPC messages from stdin and POSTs each one to the
// mesh's Streamable HTTP endpoint; every JSON-RPC message that comes back (a JSON body
// or the data of each server-sent event) goes to stdout as one line. Requests run
// concurrently, so a slow tool call does not hold up a ping; lines of concurrent
// answers never interleave.
//
// Both protocol generations pass through. A stateful client's initialize answer gives
// the session id and negotiated version that every later POST carries; once the client
// sent notifications/initialized the bridge holds the session's GET stream open (resumed
// with Last-Event-ID after a drop) and forwards the server-to-client requests and
// notifications on it; the client's answers come back on stdin and are POSTed like any
// message. A 2026-07-28 message (params._meta carries the protocol version) is sent
// without a session and with the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers
// that generation requires, plus Mcp-Param-* headers for tool arguments annotated with
// x-mcp-header in the tools/list answers the client received (tools with invalid
// annotations are left out of those answers, as the spec asks of HTTP clients); a
// client's notifications/cancelled for such a request closes its stream, which is how
// that generation cancels.
//
// HTTP failures become JSON-RPC errors for the request that failed (-32603 naming the
// HTTP status or the network error); failures of notifications are logged to stderr.
// On stdin EOF or a signal the bridge waits briefly for requests in flight, deletes the
// session and returns nil; it also exits when the mesh ends the session (404).
package stdio
