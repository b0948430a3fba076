-- +goose Up
-- The upstreams put through the admin API (UpstreamAdminService), one row each; the
-- configuration file's upstreams are not here. spec is the protojson encoding of
-- mcpmesh.federation.v1.Upstream without its output-only fields: credentials are file
-- paths, never secret values. Every write notifies mcpmesh_federation_upstreams in its
-- transaction, and each federation replica re-reads the table and reconciles.
CREATE TABLE federation_upstreams (
    name       text PRIMARY KEY,
    spec       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE federation_upstreams;
