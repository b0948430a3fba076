-- +goose Up
-- Server-to-client requests waiting for the client's answer. The replica that sent the
-- request inserts the row and waits; whichever replica receives the answer stores it
-- in answer and notifies; the waiting replica takes the row. request_key is the
-- JSON-RPC id normalised (pending.Key), so "a" and "\u0061" match. answer is the JSON
-- encoding described in internal/pending/postgres.go. No foreign key to sessions:
-- rows live for seconds, and the sweep removes abandoned ones.
CREATE TABLE session_pending (
    session_id      text   NOT NULL,
    request_key     text   NOT NULL,
    created_unix_ms bigint NOT NULL,
    answer          bytea,
    PRIMARY KEY (session_id, request_key)
);

CREATE INDEX session_pending_created_idx ON session_pending (created_unix_ms);

-- +goose Down
DROP TABLE session_pending;
