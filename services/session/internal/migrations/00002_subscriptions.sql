-- +goose Up
-- resources/subscribe: which session wants notifications/resources/updated for which
-- URI. Rows go with their session.
CREATE TABLE session_subscriptions (
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    uri        text NOT NULL,
    PRIMARY KEY (session_id, uri)
);

-- A resource change looks its subscribers up by URI.
CREATE INDEX session_subscriptions_uri_idx ON session_subscriptions (uri);

-- +goose Down
DROP TABLE session_subscriptions;
