-- +goose Up
-- A task belongs to the principal that created it, as its session does: owner is an
-- opaque digest of that principal (empty for tasks created without one and for tasks
-- created before this migration). Only the owner finds a task, stateless ones included,
-- and the unfinished tasks of one owner are counted for session.task_max_per_principal.
ALTER TABLE session_tasks ADD COLUMN owner bytea NOT NULL DEFAULT '\x'::bytea;
CREATE INDEX session_tasks_owner_active_idx ON session_tasks (owner)
    WHERE status NOT IN ('completed', 'failed', 'cancelled');

-- +goose Down
DROP INDEX session_tasks_owner_active_idx;
ALTER TABLE session_tasks DROP COLUMN owner;
