// Package mcpjson holds the small pieces of MCP JSON the session service writes by
// hand: an append-only object builder (results are mostly pre-rendered bytes glued
// together), JSON-RPC error objects, pagination cursors and log levels.
package mcpjson
