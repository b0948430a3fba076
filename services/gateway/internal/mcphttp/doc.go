// Package mcphttp serves the MCP endpoint /mcp over Streamable HTTP. It checks what the
// HTTP layer owns (Origin, media types, body size), hands the body and headers to the
// transport service, and writes the stream the transport answers with: a head (status,
// framing, session id) and then raw JSON-RPC messages, as one JSON body or as
// server-sent events. It never decodes JSON-RPC itself.
package mcphttp
