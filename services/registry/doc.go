// Package registry is mcpmesh's control plane of capabilities. Providers register with a
// lease and heartbeat (or are configured statically); the registry calls their Describe,
// names their tools and prompts without collisions, answers list calls in a stable order
// with cursors, streams whole catalogue snapshots to watchers after every change, and
// routes tool calls for REST and internal callers that do not hold the routing table.
//
// The registry is not on the MCP hot path: the session service watches the catalogue
// and calls providers directly.
//
// Provider records live in memory by default, or in PostgreSQL when Deps.DB is set
// (tables created by Migrate); then any replica accepts registrations, heartbeats and
// deregistrations of any provider, lease checks are atomic in SQL, and ListProviders
// reads the shared table. An unreachable database is reported as Unavailable
// ("registry store unavailable, retry").
//
// With shared records each replica re-reads them every refresh interval and publishes
// a new snapshot (WatchCatalogue, the list calls, CallTool routing) when another
// replica changed them. TODO(cross-replica): rebuild on PostgreSQL LISTEN/NOTIFY (the
// providers.revision column says what changed) and keep the poll as the fallback while
// the listener reconnects.
package registry
