// Package registry is mcpmesh's control plane of capabilities. Providers register with a
// lease and heartbeat (or are configured statically); the registry calls their Describe,
// names their tools and prompts without collisions, answers list calls in a stable order
// with cursors, streams whole catalogue snapshots to watchers after every change, and
// routes tool calls for REST and internal callers that do not hold the routing table.
//
// The registry is not on the MCP hot path: the session service watches the catalogue
// and calls providers directly.
package registry
