-- +goose Up
-- The mesh's API keys when it runs with a database: `mcpmesh apikey` writes them, every
-- gateway replica keeps them in memory and re-reads them on the mcpmesh_apikeys
-- notification (services/kit/apikey). hash is the hex HMAC-SHA256 of the key under the
-- pepper, which is never stored here: a copy of this table cannot test a candidate key.
-- A revoked key keeps its row (revoked_at set), so that `mcpmesh apikey list` shows it.
CREATE TABLE api_keys (
    name         text PRIMARY KEY,
    hash         text NOT NULL UNIQUE,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- +goose Down
DROP TABLE api_keys;
