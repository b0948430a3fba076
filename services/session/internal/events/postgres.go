package events

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// NotifyChannel is the PostgreSQL NOTIFY channel on which Append and Forget announce
// a session's changed events; the payload is the session id. Every replica listens
// on it (internal/pgnotify) and wakes its own readers of that session.
const NotifyChannel = "mcpmesh_session_events"

// DefaultSweepBatch is how many events (or heads) one sweep statement deletes at most.
const DefaultSweepBatch = 1000

// Postgres is the Log shared by every replica: tables session_events and
// session_event_heads (migration 00003). Appends to one session serialise on the
// session's head row, which holds its sequence counter, so numbers are gap-free
// whichever replicas append; drafts whose origin is already recorded are skipped
// before numbers are taken. Each Append and Forget notifies NotifyChannel in its
// transaction (delivered at commit) and wakes this replica's readers directly.
//
// Times are unix milliseconds from the callers' clocks. A session's event times never
// decrease (an append stamps max(now, the newest event's time)), so the sweep, which
// deletes oldest first, always removes a prefix of a session's events.
type Postgres struct {
	pool  *pgxpool.Pool
	waker *Waker
	cap   int64
	now   func() time.Time
	batch int
}

var _ Log = (*Postgres)(nil)

// PostgresOption adjusts a Postgres log.
type PostgresOption func(*Postgres)

// WithSweepBatch sets how many rows one sweep statement deletes at most (default
// DefaultSweepBatch).
func WithSweepBatch(n int) PostgresOption {
	return func(p *Postgres) {
		if n > 0 {
			p.batch = n
		}
	}
}

// NewPostgres returns a log on pool (tables created by the session migrations) that
// keeps up to perSession events of each session, wakes this replica's readers through
// waker, and stamps events with now (nil: time.Now).
func NewPostgres(pool *pgxpool.Pool, perSession int, waker *Waker, now func() time.Time, opts ...PostgresOption) *Postgres {
	if now == nil {
		now = time.Now
	}
	p := &Postgres{pool: pool, waker: waker, cap: int64(max(perSession, 1)), now: now, batch: DefaultSweepBatch}
	for _, o := range opts {
		o(p)
	}
	return p
}

// storable reports whether s can be a PostgreSQL text value (valid UTF-8 without
// NUL). A session id that is not cannot have events.
func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

// lockHeadSQL takes the session's head row lock (creating the row if needed) and
// returns the counter. A new row starts from the highest event kept, if any, so the
// counter can never go back below an event that exists.
const lockHeadSQL = `INSERT INTO session_event_heads AS h (session_id, head, last_unix_ms)
VALUES ($1, COALESCE((SELECT max(seq) FROM session_events WHERE session_id = $1), 0), 0)
ON CONFLICT (session_id) DO UPDATE SET head = h.head
RETURNING head, last_unix_ms`

const recordedOriginsSQL = `SELECT origin FROM session_events WHERE session_id = $1 AND origin = ANY($2)`

const insertEventsSQL = `INSERT INTO session_events (session_id, seq, method, params, origin, created_unix_ms)
SELECT $1, d.seq, d.method, d.params, NULLIF(d.origin, ''), $6
FROM unnest($2::bigint[], $3::text[], $4::bytea[], $5::text[]) AS d(seq, method, params, origin)`

const setHeadSQL = `UPDATE session_event_heads SET head = $2, last_unix_ms = $3 WHERE session_id = $1`

const trimSQL = `DELETE FROM session_events WHERE session_id = $1 AND seq <= $2`

const notifySQL = `SELECT pg_notify('` + NotifyChannel + `', $1)`

// Append implements Log. One transaction: lock the head row, look up which origins
// are recorded, insert the new events, move the head, trim to the cap, notify.
func (p *Postgres) Append(ctx context.Context, sessionID string, drafts ...Draft) error {
	if len(drafts) == 0 {
		return nil
	}
	op := "append events of session " + sessionID
	if !storable(sessionID) {
		return fmt.Errorf("%s: session id is not storable text", op)
	}
	for _, d := range drafts {
		if !storable(d.Method) || !storable(d.Origin) {
			return fmt.Errorf("%s: method or origin is not storable text", op)
		}
	}
	at := p.now().UnixMilli()
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return wrap(op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var head, last int64
	if err := tx.QueryRow(ctx, lockHeadSQL, sessionID).Scan(&head, &last); err != nil {
		return wrap(op, err)
	}
	recorded, err := recordedOrigins(ctx, tx, sessionID, drafts)
	if err != nil {
		return wrap(op, err)
	}
	n := len(drafts)
	seqs, methods, params, origins := make([]int64, 0, n), make([]string, 0, n), make([][]byte, 0, n), make([]string, 0, n)
	for _, d := range drafts {
		if d.Origin != "" {
			if _, dup := recorded[d.Origin]; dup {
				continue
			}
			recorded[d.Origin] = struct{}{}
		}
		head++
		seqs, methods, params, origins = append(seqs, head), append(methods, d.Method), append(params, d.Params), append(origins, d.Origin)
	}
	if len(seqs) == 0 {
		return nil // every draft was recorded already: nothing changes, nobody to wake
	}
	at = max(at, last)
	var b pgx.Batch
	b.Queue(insertEventsSQL, sessionID, seqs, methods, params, origins, at)
	b.Queue(setHeadSQL, sessionID, head, at)
	if head > p.cap {
		b.Queue(trimSQL, sessionID, head-p.cap)
	}
	b.Queue(notifySQL, sessionID)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return wrap(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(op, err)
	}
	p.waker.Wake(sessionID)
	return nil
}

// recordedOrigins returns the drafts' origins that the session's kept events have
// (an empty, non-nil set when none is), read under the head row lock.
func recordedOrigins(ctx context.Context, tx pgx.Tx, sessionID string, drafts []Draft) (map[string]struct{}, error) {
	var origins []string
	for _, d := range drafts {
		if d.Origin != "" {
			origins = append(origins, d.Origin)
		}
	}
	recorded := make(map[string]struct{}, len(origins))
	if len(origins) == 0 {
		return recorded, nil
	}
	rows, err := tx.Query(ctx, recordedOriginsSQL, sessionID, origins)
	if err != nil {
		return nil, err
	}
	var origin string
	_, err = pgx.ForEachRow(rows, []any{&origin}, func() error {
		recorded[origin] = struct{}{}
		return nil
	})
	return recorded, err
}

const readSQL = `SELECT seq, method, params FROM session_events
WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`

// Read implements Log. A negative limit means no limit, as in Memory.
func (p *Postgres) Read(ctx context.Context, sessionID string, after int64, limit int) ([]Event, error) {
	if limit == 0 || !storable(sessionID) {
		return nil, nil
	}
	var bound *int
	if limit > 0 {
		bound = &limit
	}
	rows, err := p.pool.Query(ctx, readSQL, sessionID, after, bound)
	if err != nil {
		return nil, wrap(fmt.Sprintf("read events of session %s", sessionID), err)
	}
	var (
		out []Event
		e   Event
	)
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &e.Method, &e.Params}, func() error {
		out = append(out, e)
		e.Params = nil // the next row scans into fresh bytes
		return nil
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("read events of session %s", sessionID), err)
	}
	return out, nil
}

// windowSQL reads the head and the oldest kept event in one snapshot.
const windowSQL = `SELECT
	COALESCE((SELECT head FROM session_event_heads WHERE session_id = $1), 0),
	(SELECT min(seq) FROM session_events WHERE session_id = $1)`

// Window implements Log.
func (p *Postgres) Window(ctx context.Context, sessionID string) (Window, error) {
	if !storable(sessionID) {
		return Window{First: 1}, nil
	}
	var (
		head  int64
		first *int64
	)
	if err := p.pool.QueryRow(ctx, windowSQL, sessionID).Scan(&head, &first); err != nil {
		return Window{}, wrap(fmt.Sprintf("window of session %s", sessionID), err)
	}
	if first == nil {
		return Window{First: head + 1, Head: head}, nil
	}
	return Window{First: *first, Head: head}, nil
}

// Forget implements Log. The head row goes first: it takes the lock appends hold, so
// an append in progress either commits before (and its events are deleted here) or
// starts afresh after.
func (p *Postgres) Forget(ctx context.Context, sessionID string) error {
	op := "forget events of session " + sessionID
	if !storable(sessionID) {
		return nil
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return wrap(op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var b pgx.Batch
	b.Queue(`DELETE FROM session_event_heads WHERE session_id = $1`, sessionID)
	b.Queue(`DELETE FROM session_events WHERE session_id = $1`, sessionID)
	b.Queue(notifySQL, sessionID)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return wrap(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(op, err)
	}
	p.waker.Wake(sessionID)
	return nil
}

// sweepEventsSQL deletes one batch of the oldest expired events. The total order
// (time, session, seq) makes every batch remove a prefix of each session's events;
// SKIP LOCKED lets replicas sweep at once without waiting on each other or on appends.
const sweepEventsSQL = `DELETE FROM session_events WHERE (session_id, seq) IN (
	SELECT session_id, seq FROM session_events WHERE created_unix_ms < $1
	ORDER BY created_unix_ms, session_id, seq LIMIT $2 FOR UPDATE SKIP LOCKED)`

// sweepHeadsSQL deletes one batch of heads whose newest event is older than the
// cutoff and that have no event left. A head an append holds is skipped; one updated
// since the statement began is re-checked against its new time and kept.
const sweepHeadsSQL = `DELETE FROM session_event_heads WHERE session_id IN (
	SELECT h.session_id FROM session_event_heads h
	WHERE h.last_unix_ms < $1
	  AND NOT EXISTS (SELECT 1 FROM session_events e WHERE e.session_id = h.session_id)
	ORDER BY h.last_unix_ms LIMIT $2 FOR UPDATE SKIP LOCKED)`

// Sweep implements Log: expired events in batches, then the heads of sessions left
// without events (so, as in Memory, such a session's window starts again at 1). It
// reports the number of events removed.
func (p *Postgres) Sweep(ctx context.Context, before time.Time) (int, error) {
	cutoff := before.UnixMilli()
	removed, err := pgdb.DeleteInBatches(ctx, p.pool, p.batch, sweepEventsSQL, cutoff)
	if err != nil {
		return removed, wrap("sweep events", err)
	}
	if _, err := pgdb.DeleteInBatches(ctx, p.pool, p.batch, sweepHeadsSQL, cutoff); err != nil {
		return removed, wrap("sweep event heads", err)
	}
	return removed, nil
}

// wrap adds op to a database error and files it under the store's sentinels.
func wrap(op string, err error) error { return sentinels.Wrap(op, err) }

var sentinels = pgdb.Sentinels{Unavailable: ErrUnavailable}
