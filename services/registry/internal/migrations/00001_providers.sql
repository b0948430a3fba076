-- +goose Up
-- Every write of a provider row takes the next revision, so a reader can tell which
-- rows changed since a revision it saw (cross-replica snapshot rebuilds).
CREATE SEQUENCE providers_revision_seq;

-- One row per provider. Static providers (from configuration) have an empty lease_id
-- and no lease_expires_at. catalogue is the protobuf encoding of mcpmesh.mcp.v1.Catalogue.
CREATE TABLE providers (
    name             text PRIMARY KEY,
    address          text        NOT NULL,
    lease_id         text        NOT NULL DEFAULT '',
    lease_ms         bigint      NOT NULL DEFAULT 0,
    lease_expires_at timestamptz,
    registered_at    timestamptz NOT NULL,
    version          text        NOT NULL DEFAULT '',
    instructions     text        NOT NULL DEFAULT '',
    catalogue        bytea,
    revision         bigint      NOT NULL DEFAULT nextval('providers_revision_seq')
);
ALTER SEQUENCE providers_revision_seq OWNED BY providers.revision;

-- The batched sweep of expired leases; static providers never expire and stay out.
CREATE INDEX providers_lease_expires_at_idx ON providers (lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;

-- +goose Down
DROP TABLE providers;
