package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// DefaultSweepBatch is how many sessions one sweep statement deletes at most: small
// enough that no statement holds row locks or a long transaction for more than a
// moment, large enough that a backlog of expired sessions drains in a few round trips.
const DefaultSweepBatch = 1000

// Postgres is the Store shared by every replica: one row per session in the table
// "sessions" (see the module's migrations). Times are unix milliseconds from the
// callers' clocks, the same numbers the in-memory store keeps, so replicas agree on
// expiry as far as their clocks agree (NTP keeps that well under the idle timeout).
//
// Postgres itself caches nothing: every Get reads the row. Cached keeps copies in front
// of it; WithChangeNotify makes every change announce itself to those copies.
type Postgres struct {
	pool  *pgxpool.Pool
	idle  time.Duration
	now   func() time.Time
	batch int
	// notify is the channel every change is announced on; empty: none.
	notify string
}

var _ Store = (*Postgres)(nil)

// PostgresOption adjusts a Postgres store.
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

// WithChangeNotify announces every change or end of a session on channel (the payload
// is the session id) in the same statement as the change: the announcement is sent if
// and only if the change commits, so a copy cached elsewhere is never left unaware of
// a change that happened.
func WithChangeNotify(channel string) PostgresOption {
	return func(p *Postgres) { p.notify = channel }
}

// NewPostgres returns a store on pool, whose tables Migrate has created. Sessions
// expire after idle without activity; now is the clock that hides expired sessions
// (nil means time.Now).
func NewPostgres(pool *pgxpool.Pool, idle time.Duration, now func() time.Time, opts ...PostgresOption) *Postgres {
	if now == nil {
		now = time.Now
	}
	p := &Postgres{pool: pool, idle: idle, now: now, batch: DefaultSweepBatch}
	for _, o := range opts {
		o(p)
	}
	return p
}

// liveSince is the oldest last-seen time of a live session at now: rows last seen
// before it are expired (the in-memory store's rule, now - last_seen > idle).
func (p *Postgres) liveSince(now time.Time) int64 {
	if p.idle <= 0 {
		return math.MinInt64
	}
	return now.UnixMilli() - p.idle.Milliseconds()
}

const sessionColumns = `id, protocol_version, client_info, client_capabilities, log_level, initialized, created_unix_ms, last_seen_unix_ms, owner`

// createSQL inserts a session or replaces an expired one with the same id (as the
// in-memory store does); a live one stays and no row is reported.
const createSQL = `INSERT INTO sessions (` + sessionColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10)
ON CONFLICT (id) DO UPDATE SET
	protocol_version = EXCLUDED.protocol_version,
	client_info = EXCLUDED.client_info,
	client_capabilities = EXCLUDED.client_capabilities,
	log_level = EXCLUDED.log_level,
	initialized = EXCLUDED.initialized,
	created_unix_ms = EXCLUDED.created_unix_ms,
	last_seen_unix_ms = EXCLUDED.last_seen_unix_ms,
	owner = EXCLUDED.owner
WHERE sessions.last_seen_unix_ms < $9`

// Create stores a new session.
func (p *Postgres) Create(ctx context.Context, s Session) error {
	tag, err := p.pool.Exec(ctx, createSQL, s.ID, s.ProtocolVersion, s.ClientInfo, s.ClientCapabilities,
		s.LogLevel, s.Initialized, s.CreatedUnixMs, s.LastSeenUnixMs, p.liveSince(p.now()), []byte(s.Owner))
	if err != nil {
		return wrap(fmt.Sprintf("create session %s", s.ID), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create session %s: %w", s.ID, ErrExists)
	}
	return nil
}

const getSQL = `SELECT ` + sessionColumns + ` FROM sessions WHERE id = $1 AND last_seen_unix_ms >= $2`

// Get returns the session unless it is missing or expired (swept or not).
func (p *Postgres) Get(ctx context.Context, id string) (Session, error) {
	var s Session
	var owner []byte
	err := p.pool.QueryRow(ctx, getSQL, id, p.liveSince(p.now())).Scan(&s.ID, &s.ProtocolVersion, &s.ClientInfo,
		&s.ClientCapabilities, &s.LogLevel, &s.Initialized, &s.CreatedUnixMs, &s.LastSeenUnixMs, &owner)
	if err != nil {
		return Session{}, wrap(fmt.Sprintf("get session %s", id), err)
	}
	s.Owner = string(owner)
	return s, nil
}

// touchSQL moves last-seen forward only: a replica with an older request never moves
// it back, and a session already touched later costs no row version.
const touchSQL = `UPDATE sessions SET last_seen_unix_ms = $2
WHERE id = $1 AND last_seen_unix_ms >= $3 AND last_seen_unix_ms < $2`

const liveSQL = `SELECT true FROM sessions WHERE id = $1 AND last_seen_unix_ms >= $2`

// Touch records activity at now: one UPDATE, plus a lookup only when it changed no
// row (the session is gone, or another request touched it later already).
func (p *Postgres) Touch(ctx context.Context, id string, now time.Time) error {
	since := p.liveSince(p.now())
	tag, err := p.pool.Exec(ctx, touchSQL, id, now.UnixMilli(), since)
	if err != nil {
		return wrap(fmt.Sprintf("touch session %s", id), err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var live bool
	if err := p.pool.QueryRow(ctx, liveSQL, id, since).Scan(&live); err != nil {
		return wrap(fmt.Sprintf("touch session %s", id), err)
	}
	return nil
}

// SetLogLevel stores the level set by logging/setLevel.
func (p *Postgres) SetLogLevel(ctx context.Context, id, level string) error {
	return p.update(ctx, fmt.Sprintf("set log level of session %s", id), `log_level = $3`, id, level)
}

// MarkInitialized records notifications/initialized.
func (p *Postgres) MarkInitialized(ctx context.Context, id string) error {
	return p.update(ctx, fmt.Sprintf("mark session %s initialized", id), `initialized = true`, id)
}

// update sets columns (a SET list whose parameters start at $3) of a live session:
// $1 is the id and $2 the live-since bound. With a change channel the statement also
// announces the change, only when it changed a row.
func (p *Postgres) update(ctx context.Context, op, set, id string, args ...any) error {
	sql := `UPDATE sessions SET ` + set + ` WHERE id = $1 AND last_seen_unix_ms >= $2`
	args = append([]any{id, p.liveSince(p.now())}, args...)
	if p.notify != "" {
		args = append(args, p.notify)
		sql = fmt.Sprintf(`WITH changed AS (%s RETURNING id) SELECT pg_notify($%d, id) FROM changed`, sql, len(args))
	}
	tag, err := p.pool.Exec(ctx, sql, args...)
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// Delete removes the session. Like the in-memory store it removes an expired row too
// but reports ErrNotFound for it, since for the caller it was already gone.
func (p *Postgres) Delete(ctx context.Context, id string) error {
	var lastSeen int64
	var err error
	if p.notify == "" {
		err = p.pool.QueryRow(ctx, `DELETE FROM sessions WHERE id = $1 RETURNING last_seen_unix_ms`, id).Scan(&lastSeen)
	} else {
		err = p.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM sessions WHERE id = $1 RETURNING id, last_seen_unix_ms)
SELECT last_seen_unix_ms, pg_notify($2, id) FROM gone`, id, p.notify).Scan(&lastSeen, nil)
	}
	if err != nil {
		return wrap(fmt.Sprintf("delete session %s", id), err)
	}
	if lastSeen < p.liveSince(p.now()) {
		return fmt.Errorf("delete session %s: %w", id, ErrNotFound)
	}
	return nil
}

// sweepSQL deletes one batch of expired sessions. SKIP LOCKED lets several replicas
// sweep at once without waiting on each other or on requests touching a row.
const sweepSQL = `DELETE FROM sessions WHERE id IN (
	SELECT id FROM sessions WHERE last_seen_unix_ms < $1
	ORDER BY last_seen_unix_ms LIMIT $2 FOR UPDATE SKIP LOCKED)`

// SweepExpired removes the sessions idle since before now minus the idle timeout, in
// batches of at most the sweep batch size, each its own short statement.
func (p *Postgres) SweepExpired(ctx context.Context, now time.Time) (int, error) {
	if p.idle <= 0 {
		return 0, nil
	}
	removed, err := pgdb.DeleteInBatches(ctx, p.pool, p.batch, sweepSQL, p.liveSince(now))
	if err != nil {
		return removed, wrap("sweep sessions", err)
	}
	return removed, nil
}

// wrap adds op to a database error and files it under the store's sentinels.
func wrap(op string, err error) error { return sentinels.Wrap(op, err) }

var sentinels = pgdb.Sentinels{NotFound: ErrNotFound, Exists: ErrExists, Unavailable: ErrUnavailable}

// CountLive counts the sessions that have not expired (one index range scan).
func (p *Postgres) CountLive(ctx context.Context) (int64, error) {
	var n int64
	if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE last_seen_unix_ms >= $1`, p.liveSince(p.now())).Scan(&n); err != nil {
		return 0, wrap("count sessions", err)
	}
	return n, nil
}
