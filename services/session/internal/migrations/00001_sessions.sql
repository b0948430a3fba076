-- +goose Up
-- One row per stateful MCP session. client_info and client_capabilities keep the
-- client's JSON bytes exactly (bytea: jsonb would reorder keys). Times are unix
-- milliseconds, as in the in-memory store.
CREATE TABLE sessions (
    id                  text PRIMARY KEY,
    protocol_version    text    NOT NULL,
    client_info         bytea,
    client_capabilities bytea,
    log_level           text    NOT NULL DEFAULT '',
    initialized         boolean NOT NULL DEFAULT false,
    created_unix_ms     bigint  NOT NULL,
    last_seen_unix_ms   bigint  NOT NULL
);

-- Expiry checks and the batched sweep scan by last-seen time.
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_unix_ms);

-- +goose Down
DROP TABLE sessions;
