// Package e2e holds the end-to-end tests of mcpmesh: they build the binary, start it
// as one process (-target=all) and as six (gateway, transport, session, registry,
// health and the everything provider), and drive it with the official Go MCP SDK
// client and with raw HTTP. Every server message is validated against the official
// JSON Schema of its protocol version.
package e2e
