// Package dispatch runs one decoded MCP request or notification: it serves list calls
// from the watched catalogue, routes tools/call, resources/read, prompts/get and
// completion/complete to providers, turns provider events into MCP notifications and
// results, and reports failures as JSON-RPC error objects.
//
// tools/call arguments are validated against the tool's inputSchema before the provider
// is called, and structuredContent against its outputSchema (validate.go). For the
// 2026-07-28 generation, a provider's input_required becomes an InputRequiredResult with
// a signed requestState, and the client's retry is verified and passed back to the
// provider (mrtr.go, requeststate.go).
package dispatch
