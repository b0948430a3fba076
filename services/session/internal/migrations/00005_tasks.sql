-- +goose Up
-- MCP tasks: tool calls running in the background after the client got a task
-- handle. session_id is '' for stateless (2026-07-28) tasks, which only their
-- unguessable id protects. result is the result object's JSON bytes; error_* the
-- JSON-RPC error of a failed task. Times are unix milliseconds; a record expires at
-- expires_unix_ms (creation + ttl) and the batched sweep removes it. No foreign key
-- to sessions: a task may outlive its session by its ttl, and the sweep removes it.
CREATE TABLE session_tasks (
    id                text    PRIMARY KEY,
    session_id        text    NOT NULL,
    status            text    NOT NULL,
    status_message    text    NOT NULL DEFAULT '',
    created_unix_ms   bigint  NOT NULL,
    updated_unix_ms   bigint  NOT NULL,
    ttl_ms            bigint  NOT NULL,
    poll_interval_ms  bigint  NOT NULL,
    expires_unix_ms   bigint  NOT NULL,
    result            bytea,
    error_code        integer,
    error_message     text,
    error_data        bytea
);

-- tasks/list pages a session's tasks oldest first.
CREATE INDEX session_tasks_session_idx ON session_tasks (session_id, created_unix_ms, id);

-- The batched sweep deletes the expired records first.
CREATE INDEX session_tasks_expires_idx ON session_tasks (expires_unix_ms);

-- +goose Down
DROP TABLE session_tasks;
