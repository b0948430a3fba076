// Package pgdb is the PostgreSQL foundation the stores of mcpmesh services build on:
// configuration (database.* keys), a bounded pgx connection pool with a statement timeout
// on every connection, readiness pings, embedded goose migrations run under a
// per-service advisory lock, and IsUnavailable to tell "the database is down" from other
// errors so callers can answer with a retryable gRPC Unavailable.
//
// Open never fails because the database is down: the pool is lazy, so a replica starts,
// reports not-ready through Ping, and recovers by itself when PostgreSQL comes back.
package pgdb
