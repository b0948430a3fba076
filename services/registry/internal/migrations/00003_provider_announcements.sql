-- +goose Up
-- How many times each provider announced that a list changed (RefreshProvider's
-- announce: a federated server's list_changed), per list. A count that moves is a
-- change of that list for every registry replica's watchers, even when the provider's
-- description stayed the same. Defaults keep the previous release's INSERTs valid.
ALTER TABLE providers
    ADD COLUMN tools_announced     bigint NOT NULL DEFAULT 0,
    ADD COLUMN resources_announced bigint NOT NULL DEFAULT 0,
    ADD COLUMN prompts_announced   bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE providers
    DROP COLUMN tools_announced,
    DROP COLUMN resources_announced,
    DROP COLUMN prompts_announced;
