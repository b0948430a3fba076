// Package registry is mcpmesh's control plane of capabilities. Providers register with a
// lease and heartbeat (or are configured statically); the registry calls their Describe,
// names their tools and prompts without collisions, answers the control plane's
// (unfiltered) list calls in a stable order with cursors, and streams whole catalogue snapshots to watchers after every change.
//
// The registry is never on a call's path: the session service watches the catalogue
// and calls providers directly, for MCP and REST callers alike, and serves their
// listings (filtered by policy) from that catalogue.
//
// Provider records live in memory by default, or in PostgreSQL when Deps.DB is set
// (tables created by Migrate); then any replica accepts registrations, heartbeats and
// deregistrations of any provider, lease checks are atomic in SQL, and ListProviders
// reads the shared table. An unreachable database is reported as Unavailable
// ("registry store unavailable, retry").
//
// With shared records each replica re-reads them every refresh interval and publishes
// a new snapshot (WatchCatalogue, the list calls) when another replica changed them;
// a PostgreSQL NOTIFY from the writing replica (notify.go) makes the others re-read at
// once, and the periodic re-read is the fallback while the listener reconnects.
package registry
