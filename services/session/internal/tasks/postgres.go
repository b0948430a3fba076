package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// Postgres is the Store shared by every replica: table session_tasks (migration
// 00005). Finish and Cancel notify NotifyChannel in the same statement (delivered at
// commit), so the replica running a cancelled task stops it and waiting requests on
// every replica look again.
type Postgres struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	batch int
}

var _ Store = (*Postgres)(nil)

// NewPostgres returns a store on pool (tables created by the session migrations);
// now is its clock (nil: time.Now).
func NewPostgres(pool *pgxpool.Pool, now func() time.Time) *Postgres {
	if now == nil {
		now = time.Now
	}
	return &Postgres{pool: pool, now: now, batch: DefaultSweepBatch}
}

// storable reports whether s can be a PostgreSQL text value (valid UTF-8 without NUL).
func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

const taskColumns = `id, session_id, owner, status, status_message, created_unix_ms, updated_unix_ms, ttl_ms,
	poll_interval_ms, result, error_code, error_message, error_data, input_requests, input_responses`

// scanTask reads one row of taskColumns.
func scanTask(row pgx.Row) (Task, error) {
	var (
		t       Task
		status  string
		code    *int32
		message *string
		data    []byte
	)
	var owner []byte
	if err := row.Scan(&t.ID, &t.SessionID, &owner, &status, &t.StatusMessage, &t.CreatedUnixMs, &t.UpdatedUnixMs, &t.TTLMs,
		&t.PollIntervalMs, &t.Result, &code, &message, &data, &t.InputRequests, &t.InputResponses); err != nil {
		return Task{}, err
	}
	t.Owner = string(owner)
	t.Status = Status(status)
	if code != nil {
		t.Error = &Error{Code: *code, Data: data}
		if message != nil {
			t.Error.Message = *message
		}
	}
	return t, nil
}

// Create implements Store.
func (p *Postgres) Create(ctx context.Context, t Task) error {
	op := "create task " + t.ID
	if !storable(t.ID) || !storable(t.SessionID) || !storable(t.StatusMessage) {
		return fmt.Errorf("%s: id, session id or message is not storable text", op)
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO session_tasks (id, session_id, owner, status, status_message, created_unix_ms,
	updated_unix_ms, ttl_ms, poll_interval_ms, expires_unix_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, t.SessionID, []byte(t.Owner), string(t.Status), t.StatusMessage, t.CreatedUnixMs, t.UpdatedUnixMs, t.TTLMs, t.PollIntervalMs, t.ExpiresUnixMs())
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// Get implements Store.
func (p *Postgres) Get(ctx context.Context, id string) (Task, error) {
	op := "get task " + id
	if !storable(id) {
		return Task{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	t, err := scanTask(p.pool.QueryRow(ctx, `SELECT `+taskColumns+` FROM session_tasks WHERE id = $1 AND expires_unix_ms > $2`,
		id, nowMs(p.now)))
	if err != nil {
		return Task{}, wrap(op, err)
	}
	return t, nil
}

// List implements Store.
func (p *Postgres) List(ctx context.Context, sessionID string, after Position, limit int) ([]Task, bool, error) {
	op := "list tasks of session " + sessionID
	if !storable(sessionID) || !storable(after.ID) {
		return nil, false, nil
	}
	rows, err := p.pool.Query(ctx, `SELECT `+taskColumns+` FROM session_tasks
	WHERE session_id = $1 AND expires_unix_ms > $2 AND (created_unix_ms, id) > ($3, $4)
	ORDER BY created_unix_ms, id LIMIT $5`, sessionID, nowMs(p.now), after.CreatedUnixMs, after.ID, limit+1)
	if err != nil {
		return nil, false, wrap(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) { return scanTask(r) })
	if err != nil {
		return nil, false, wrap(op, err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// finishSQL records the outcome of a task that is not terminal.
const finishSQL = `UPDATE session_tasks SET status = $3, status_message = $4, result = $5, error_code = $6, error_message = $7,
		error_data = $8, updated_unix_ms = GREATEST(updated_unix_ms, $2)
	WHERE id = $1 AND expires_unix_ms > $2 AND status NOT IN ('completed', 'failed', 'cancelled')
	RETURNING ` + taskColumns

const notifySQL = `SELECT pg_notify('` + NotifyChannel + `', $1)`

// updateAndNotify runs an UPDATE ... RETURNING taskColumns and, if it changed a row,
// notifies payload in the same transaction (delivered at commit).
func (p *Postgres) updateAndNotify(ctx context.Context, payload, sql string, args ...any) (Task, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return Task{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	t, err := scanTask(tx.QueryRow(ctx, sql, args...))
	if err != nil {
		return Task{}, err
	}
	if _, err := tx.Exec(ctx, notifySQL, payload); err != nil {
		return Task{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Task{}, err
	}
	return t, nil
}

// Finish implements Store.
func (p *Postgres) Finish(ctx context.Context, id string, o Outcome) (Task, bool, error) {
	op := "finish task " + id
	if !storable(id) || !storable(o.StatusMessage) || (o.Error != nil && !storable(o.Error.Message)) {
		return Task{}, false, fmt.Errorf("%s: id or message is not storable text", op)
	}
	var (
		code    *int32
		message *string
		data    []byte
	)
	if o.Error != nil {
		code, message, data = &o.Error.Code, &o.Error.Message, o.Error.Data
	}
	t, err := p.updateAndNotify(ctx, EncodePayload(KindFinished, id), finishSQL, id, nowMs(p.now), string(o.Status),
		o.StatusMessage, o.Result, code, message, data)
	if err == nil {
		return t, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Task{}, false, wrap(op, err)
	}
	// Terminal already, or gone.
	t, err = p.Get(ctx, id)
	if err != nil {
		return Task{}, false, fmt.Errorf("%s: %w", op, err)
	}
	return t, false, nil
}

const cancelSQL = `UPDATE session_tasks SET status = 'cancelled', status_message = $3, updated_unix_ms = GREATEST(updated_unix_ms, $2)
	WHERE id = $1 AND expires_unix_ms > $2 AND status NOT IN ('completed', 'failed', 'cancelled')
	RETURNING ` + taskColumns

// Cancel implements Store.
func (p *Postgres) Cancel(ctx context.Context, id, message string) (Task, error) {
	op := "cancel task " + id
	if !storable(id) || !storable(message) {
		return Task{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	t, err := p.updateAndNotify(ctx, EncodePayload(KindCancelled, id), cancelSQL, id, nowMs(p.now), message)
	return p.terminalUnlessUpdated(ctx, op, id, t, err)
}

// CancelledAmong implements Store.
func (p *Postgres) CancelledAmong(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := p.pool.Query(ctx, `SELECT k.id FROM unnest($1::text[]) AS k(id)
	LEFT JOIN session_tasks t ON t.id = k.id AND t.expires_unix_ms > $2
	WHERE t.id IS NULL OR t.status = 'cancelled'`, ids, nowMs(p.now))
	if err != nil {
		return nil, wrap("check cancelled tasks", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("check cancelled tasks", err)
	}
	return out, nil
}

const sweepSQL = `DELETE FROM session_tasks WHERE id IN (
	SELECT id FROM session_tasks WHERE expires_unix_ms <= $1
	ORDER BY expires_unix_ms LIMIT $2 FOR UPDATE SKIP LOCKED)`

// Sweep implements Store: batches of at most DefaultSweepBatch rows.
func (p *Postgres) Sweep(ctx context.Context) (int, error) {
	removed, err := pgdb.DeleteInBatches(ctx, p.pool, p.batch, sweepSQL, nowMs(p.now))
	if err != nil {
		return removed, wrap("sweep expired tasks", err)
	}
	return removed, nil
}

const awaitInputSQL = `UPDATE session_tasks SET status = 'input_required', status_message = $3, input_requests = $4,
		input_responses = NULL, updated_unix_ms = GREATEST(updated_unix_ms, $2)
	WHERE id = $1 AND expires_unix_ms > $2 AND status NOT IN ('completed', 'failed', 'cancelled')
	RETURNING ` + taskColumns

// AwaitInput implements Store.
func (p *Postgres) AwaitInput(ctx context.Context, id string, requests []byte, message string) (Task, error) {
	op := "await input of task " + id
	if !storable(id) || !storable(message) {
		return Task{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	t, err := p.updateAndNotify(ctx, EncodePayload(KindInput, id), awaitInputSQL, id, nowMs(p.now), message, requests)
	return p.terminalUnlessUpdated(ctx, op, id, t, err)
}

const resumeSQL = `UPDATE session_tasks SET status = 'working', status_message = $3, input_requests = NULL,
		input_responses = NULL, updated_unix_ms = GREATEST(updated_unix_ms, $2)
	WHERE id = $1 AND expires_unix_ms > $2 AND status NOT IN ('completed', 'failed', 'cancelled')
	RETURNING ` + taskColumns

// Resume implements Store.
func (p *Postgres) Resume(ctx context.Context, id, message string) (Task, error) {
	op := "resume task " + id
	if !storable(id) || !storable(message) {
		return Task{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	t, err := p.updateAndNotify(ctx, EncodePayload(KindInput, id), resumeSQL, id, nowMs(p.now), message)
	return p.terminalUnlessUpdated(ctx, op, id, t, err)
}

// terminalUnlessUpdated finishes Cancel, AwaitInput and Resume: no row updated means the task
// is terminal (ErrTerminal with the record) or gone.
func (p *Postgres) terminalUnlessUpdated(ctx context.Context, op, id string, t Task, err error) (Task, error) {
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Task{}, wrap(op, err)
	}
	t, err = p.Get(ctx, id)
	if err != nil {
		return Task{}, fmt.Errorf("%s: %w", op, err)
	}
	return t, fmt.Errorf("%s: %w", op, ErrTerminal)
}

// AddInput implements Store: the record is read and written in one transaction (the
// row locked), so concurrent answers to one task are all kept.
func (p *Postgres) AddInput(ctx context.Context, id string, answers map[string][]byte) (Task, error) {
	op := "add input to task " + id
	if !storable(id) {
		return Task{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return Task{}, wrap(op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	now := nowMs(p.now)
	t, err := scanTask(tx.QueryRow(ctx, `SELECT `+taskColumns+` FROM session_tasks WHERE id = $1 AND expires_unix_ms > $2 FOR UPDATE`, id, now))
	if err != nil {
		return Task{}, wrap(op, err)
	}
	if t.Status != InputRequired {
		return t, nil
	}
	requests, responses, moved, err := takeAnswers(t.InputRequests, t.InputResponses, answers)
	if err != nil {
		return Task{}, fmt.Errorf("%s: %w", op, err)
	}
	if !moved {
		return t, nil
	}
	t, err = scanTask(tx.QueryRow(ctx, `UPDATE session_tasks SET input_requests = $3, input_responses = $4,
		updated_unix_ms = GREATEST(updated_unix_ms, $2) WHERE id = $1 RETURNING `+taskColumns, id, now, requests, responses))
	if err != nil {
		return Task{}, wrap(op, err)
	}
	if _, err := tx.Exec(ctx, notifySQL, EncodePayload(KindInput, id)); err != nil {
		return Task{}, wrap(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Task{}, wrap(op, err)
	}
	return t, nil
}

// CountActive implements Store.
func (p *Postgres) CountActive(ctx context.Context, sessionID string) (int, error) {
	if !storable(sessionID) {
		return 0, nil
	}
	var n int
	err := p.pool.QueryRow(ctx, `SELECT count(*) FROM session_tasks WHERE session_id = $1 AND expires_unix_ms > $2
	AND status NOT IN ('completed', 'failed', 'cancelled')`, sessionID, nowMs(p.now)).Scan(&n)
	if err != nil {
		return 0, wrap("count the tasks of session "+sessionID, err)
	}
	return n, nil
}

// CountActiveOwned implements Store.
func (p *Postgres) CountActiveOwned(ctx context.Context, owner string) (int, error) {
	var n int
	err := p.pool.QueryRow(ctx, `SELECT count(*) FROM session_tasks WHERE owner = $1 AND expires_unix_ms > $2
	AND status NOT IN ('completed', 'failed', 'cancelled')`, []byte(owner), nowMs(p.now)).Scan(&n)
	if err != nil {
		return 0, wrap("count the tasks of a principal", err)
	}
	return n, nil
}

// wrap adds op to a database error and files it under the store's sentinels.
func wrap(op string, err error) error { return sentinels.Wrap(op, err) }

var sentinels = pgdb.Sentinels{NotFound: ErrNotFound, Exists: ErrExists, Unavailable: ErrUnavailable}
