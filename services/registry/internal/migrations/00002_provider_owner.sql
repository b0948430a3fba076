-- +goose Up
-- The identity (certificate URI or DNS SAN) that registered the provider; empty for
-- static providers and for registrations without a client certificate. A provider's
-- name and tool names belong to that identity while its lease lives.
ALTER TABLE providers ADD COLUMN owner text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE providers DROP COLUMN owner;
