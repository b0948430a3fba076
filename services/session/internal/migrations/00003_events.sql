-- +goose Up
-- The event store: server-initiated messages of stateful sessions, numbered per
-- session from 1 without gaps, kept for Last-Event-ID replay. Deliberately no foreign
-- key to sessions: events of an ended session are forgotten explicitly, the sweep
-- removes the rest, and appends need no lock on the session row.
CREATE TABLE session_events (
    session_id      text   NOT NULL,
    seq             bigint NOT NULL,
    method          text   NOT NULL,
    params          bytea,
    -- The change that produced the event (provider and change id), if known: every
    -- replica hears of a provider's change and tries to record it once.
    origin          text,
    created_unix_ms bigint NOT NULL,
    PRIMARY KEY (session_id, seq)
);

-- An origin is recorded at most once per session.
CREATE UNIQUE INDEX session_events_origin_idx ON session_events (session_id, origin)
    WHERE origin IS NOT NULL;

-- The batched sweep deletes the oldest events first, in a total order.
CREATE INDEX session_events_created_idx ON session_events (created_unix_ms, session_id, seq);

-- The sequence counter of each session with events. It outlives the events that cap
-- trimming and the sweep remove, so numbers are never reused while a reader may still
-- hold one; it goes when the session is forgotten or its last event is swept.
-- last_unix_ms is the time of the session's newest event, never decreasing.
CREATE TABLE session_event_heads (
    session_id   text PRIMARY KEY,
    head         bigint NOT NULL,
    last_unix_ms bigint NOT NULL
);

CREATE INDEX session_event_heads_last_idx ON session_event_heads (last_unix_ms);

-- +goose Down
DROP TABLE session_event_heads;
DROP TABLE session_events;
