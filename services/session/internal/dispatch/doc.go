// Package dispatch runs one decoded MCP request or notification: it serves list calls
// from the watched catalogue, routes tools/call, resources/read, prompts/get and
// completion/complete to providers, turns provider events into MCP notifications and
// results, and reports failures as JSON-RPC error objects.
package dispatch
