-- +goose Up
-- A task may wait for client input (the tasks extension's input_required status):
-- input_requests holds the requests still unanswered (a JSON object, key to request),
-- input_responses the answers given so far (key to result), both as JSON bytes and
-- NULL in every other status.
ALTER TABLE session_tasks ADD COLUMN input_requests bytea, ADD COLUMN input_responses bytea;

-- +goose Down
ALTER TABLE session_tasks DROP COLUMN input_requests, DROP COLUMN input_responses;
