-- +goose Up
-- A session belongs to the principal that created it: owner is an opaque digest of
-- that principal (empty for sessions created without one, and for sessions created
-- before this migration, which then answer only callers without a principal).
ALTER TABLE sessions ADD COLUMN owner bytea NOT NULL DEFAULT '\x'::bytea;

-- +goose Down
ALTER TABLE sessions DROP COLUMN owner;
