package pending

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// NotifyChannel is the PostgreSQL NOTIFY channel on which Deliver announces an
// answer; the payload is EncodePayload(session id, request key). The waiting replica
// hears it (internal/pgnotify) and passes it to Notified.
const NotifyChannel = "mcpmesh_session_pending"

// ErrUnavailable means the database could not be reached; the caller may retry.
var ErrUnavailable = errors.New("pending store unavailable")

// DefaultSweepBatch is how many rows one sweep statement deletes at most.
const DefaultSweepBatch = 1000

// maxPayload keeps NOTIFY payloads well under PostgreSQL's 8000-byte limit; Expect
// refuses longer keys (ids are the server's own, so they are short).
const maxPayload = 4000

// claimBatch bounds how many rows one claim statement takes.
const claimBatch = 500

// closeTimeout bounds the DELETE of Waiter.Close, which has no context of its own.
// If it fails the row stays until Sweep; the answer is then taken by nobody.
const closeTimeout = 5 * time.Second

// Postgres is the Store shared by every replica: table session_pending (migration
// 00004), one row per expected answer, keyed by session id and the normalised
// request id (Key without the session).
//
// Expect inserts the row and registers a waiter in this process. Deliver, on any
// replica, stores the answer in the row (only if it has none yet) and notifies
// NotifyChannel; the replica holding the waiter then claims the row (DELETE ...
// RETURNING answer) and hands the answer to the waiter. A replica learns that it
// should claim from Notified (the notification), from Resync (after a reconnect of
// the listener, and on its fallback poll: NOTIFY is not durable), or directly when
// Deliver runs where the waiter is. Claims run on Run's goroutine, so Notified and
// Resync never block.
//
// The answer column holds the JSON encoding of Answer: {"result":"<base64>"} or
// {"error":{"code":n,"message":"...","data":"<base64>"}} (bytes as base64, so any
// bytes survive, valid JSON or not).
type Postgres struct {
	pool   *pgxpool.Pool
	now    func() time.Time
	logger *slog.Logger
	batch  int

	mu      sync.Mutex
	waiters map[string]*postgresWaiter // by Key
	due     map[string]struct{}        // keys to claim on the next run
	kick    chan struct{}              // buffered 1: something is due
}

var _ Store = (*Postgres)(nil)

// NewPostgres returns a store on pool (tables created by the session migrations).
// now stamps rows for Sweep (nil: time.Now); logger reports failed claims (nil:
// discard). Call Run to have answers from other replicas handed over.
func NewPostgres(pool *pgxpool.Pool, now func() time.Time, logger *slog.Logger) *Postgres {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Postgres{
		pool: pool, now: now, logger: logger, batch: DefaultSweepBatch,
		waiters: map[string]*postgresWaiter{}, due: map[string]struct{}{}, kick: make(chan struct{}, 1),
	}
}

type postgresWaiter struct {
	p                 *Postgres
	key               string
	sessionID, reqKey string
	c                 chan Answer
	closeOnce         sync.Once
}

// EncodePayload renders (session id, request key) as a NOTIFY payload:
// "<len(session id)>:<session id><request key>", unambiguous whatever the ids hold.
func EncodePayload(sessionID, requestKey string) string {
	return strconv.Itoa(len(sessionID)) + ":" + sessionID + requestKey
}

// DecodePayload reads a payload made by EncodePayload.
func DecodePayload(payload string) (sessionID, requestKey string, ok bool) {
	head, rest, found := strings.Cut(payload, ":")
	if !found {
		return "", "", false
	}
	n, err := strconv.Atoi(head)
	if err != nil || n < 0 || n > len(rest) || strconv.Itoa(n) != head {
		return "", "", false
	}
	return rest[:n], rest[n:], true
}

// storable reports whether s can be a PostgreSQL text value (valid UTF-8 without NUL).
func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

// columns splits (session, id) into the table's key columns; ok is false for an id
// that cannot be a request id or that the table cannot hold.
func columns(sessionID string, id []byte) (requestKey string, ok bool) {
	norm, ok := mcpjson.NormalizeID(id)
	if !ok || !storable(sessionID) || !storable(norm) {
		return "", false
	}
	return norm, true
}

// Expect implements Store.
func (p *Postgres) Expect(ctx context.Context, sessionID string, id []byte) (Waiter, error) {
	reqKey, ok := columns(sessionID, id)
	if !ok || len(EncodePayload(sessionID, reqKey)) > maxPayload {
		return nil, fmt.Errorf("expect answer to %s: invalid request id", id)
	}
	key, _ := Key(sessionID, id)
	w := &postgresWaiter{p: p, key: key, sessionID: sessionID, reqKey: reqKey, c: make(chan Answer, 1)}
	// Register before inserting, so that a notification for the row finds the waiter.
	p.mu.Lock()
	if _, dup := p.waiters[key]; dup {
		p.mu.Unlock()
		return nil, fmt.Errorf("expect answer to %s: %w", id, ErrExists)
	}
	p.waiters[key] = w
	p.mu.Unlock()
	_, err := p.pool.Exec(ctx, `INSERT INTO session_pending (session_id, request_key, created_unix_ms) VALUES ($1, $2, $3)`,
		sessionID, reqKey, p.now().UnixMilli())
	if err != nil {
		p.forget(w)
		return nil, wrap(fmt.Sprintf("expect answer to %s", id), err)
	}
	return w, nil
}

// deliverSQL stores the answer unless one is there already and notifies in the same
// statement; it returns a row exactly when it stored the answer.
const deliverSQL = `WITH answered AS (
	UPDATE session_pending SET answer = $3
	WHERE session_id = $1 AND request_key = $2 AND answer IS NULL
	RETURNING 1)
SELECT pg_notify('` + NotifyChannel + `', $4) FROM answered`

// Deliver implements Store. When the waiter is in this process the answer is claimed
// at once, without waiting for the notification.
func (p *Postgres) Deliver(ctx context.Context, sessionID string, id []byte, a Answer) (bool, error) {
	reqKey, ok := columns(sessionID, id)
	if !ok {
		return false, nil
	}
	encoded, err := encodeAnswer(a)
	if err != nil {
		return false, fmt.Errorf("deliver answer to %s: %w", id, err)
	}
	tag, err := p.pool.Exec(ctx, deliverSQL, sessionID, reqKey, encoded, EncodePayload(sessionID, reqKey))
	if err != nil {
		return false, wrap(fmt.Sprintf("deliver answer to %s", id), err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	key, _ := Key(sessionID, id)
	p.mu.Lock()
	_, local := p.waiters[key]
	p.mu.Unlock()
	if local {
		if err := p.claim(ctx, []string{key}); err != nil {
			// The answer is stored: Run's next resync claims it.
			p.logger.WarnContext(ctx, "claim an answer delivered here", "error", err)
		}
	}
	return true, nil
}

// Notified handles a notification of NotifyChannel: if the answer is for a waiter of
// this process, Run claims it. It never blocks.
func (p *Postgres) Notified(payload string) {
	sessionID, reqKey, ok := DecodePayload(payload)
	if !ok {
		return
	}
	key := sessionID + "\x00" + reqKey
	p.mu.Lock()
	_, local := p.waiters[key]
	if local {
		p.due[key] = struct{}{}
	}
	p.mu.Unlock()
	if local {
		p.wake()
	}
}

// Resync makes Run check the row of every waiter of this process: notifications
// may have been lost. It never blocks.
func (p *Postgres) Resync() {
	p.mu.Lock()
	for key := range p.waiters {
		p.due[key] = struct{}{}
	}
	n := len(p.waiters)
	p.mu.Unlock()
	if n > 0 {
		p.wake()
	}
}

func (p *Postgres) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run claims the answers that Notified and Resync mark as due, until ctx ends.
func (p *Postgres) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		}
		p.mu.Lock()
		keys := make([]string, 0, len(p.due))
		for key := range p.due {
			keys = append(keys, key)
		}
		clear(p.due)
		p.mu.Unlock()
		for len(keys) > 0 {
			n := min(len(keys), claimBatch)
			if err := p.claim(ctx, keys[:n]); err != nil && ctx.Err() == nil {
				// Left for the next resync (the listener's poll).
				p.logger.WarnContext(ctx, "claim client answers", "count", n, "error", err)
			}
			keys = keys[n:]
		}
	}
}

// claimSQL takes the answered rows among the given keys.
const claimSQL = `DELETE FROM session_pending p
USING unnest($1::text[], $2::text[]) AS k(session_id, request_key)
WHERE p.session_id = k.session_id AND p.request_key = k.request_key AND p.answer IS NOT NULL
RETURNING p.session_id, p.request_key, p.answer`

// claim takes the answered rows of keys (waiters of this process) and hands each
// answer to its waiter, if it still waits.
func (p *Postgres) claim(ctx context.Context, keys []string) error {
	sessions, reqKeys := make([]string, 0, len(keys)), make([]string, 0, len(keys))
	for _, key := range keys {
		sessionID, reqKey, ok := strings.Cut(key, "\x00")
		if ok {
			sessions, reqKeys = append(sessions, sessionID), append(reqKeys, reqKey)
		}
	}
	rows, err := p.pool.Query(ctx, claimSQL, sessions, reqKeys)
	if err != nil {
		return wrap("claim answers", err)
	}
	var (
		sessionID, reqKey string
		encoded           []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&sessionID, &reqKey, &encoded}, func() error {
		a, err := decodeAnswer(encoded)
		if err != nil {
			p.logger.ErrorContext(ctx, "undecodable stored answer", "session_id", sessionID, "error", err)
			return nil
		}
		p.handOver(sessionID+"\x00"+reqKey, a)
		return nil
	})
	if err != nil {
		return wrap("claim answers", err)
	}
	return nil
}

// handOver sends a to the waiter of key, if it still waits, and ends the wait.
func (p *Postgres) handOver(key string, a Answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.waiters[key]
	if !ok {
		return // closed meanwhile: nobody wants the answer
	}
	delete(p.waiters, key)
	delete(p.due, key)
	w.c <- a // buffered for exactly this one answer
}

// forget drops w's registration if it is still the current one for its key.
func (p *Postgres) forget(w *postgresWaiter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, ok := p.waiters[w.key]; ok && cur == w {
		delete(p.waiters, w.key)
		delete(p.due, w.key)
	}
}

// Waiting reports how many waiters this process holds.
func (p *Postgres) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters)
}

func (w *postgresWaiter) C() <-chan Answer { return w.c }

// Close implements Waiter: it drops the registration and the row (answered or not),
// so a later Deliver reports false.
func (w *postgresWaiter) Close() {
	w.closeOnce.Do(func() {
		w.p.forget(w)
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_, err := w.p.pool.Exec(ctx, `DELETE FROM session_pending WHERE session_id = $1 AND request_key = $2`, w.sessionID, w.reqKey)
		if err != nil {
			w.p.logger.WarnContext(ctx, "drop an expected answer; the sweep will", "session_id", w.sessionID, "error", err)
		}
	})
}

// sweepSQL deletes one batch of rows older than the cutoff: requests whose waiter
// went away without closing (a replica died).
const sweepSQL = `DELETE FROM session_pending WHERE (session_id, request_key) IN (
	SELECT session_id, request_key FROM session_pending WHERE created_unix_ms < $1
	ORDER BY created_unix_ms LIMIT $2 FOR UPDATE SKIP LOCKED)`

// Sweep removes rows created before the cutoff, in batches, and reports how many.
// Pick a cutoff older than the longest a request may wait for its answer.
func (p *Postgres) Sweep(ctx context.Context, before time.Time) (int, error) {
	removed, err := pgdb.DeleteInBatches(ctx, p.pool, p.batch, sweepSQL, before.UnixMilli())
	if err != nil {
		return removed, wrap("sweep expected answers", err)
	}
	return removed, nil
}

// storedAnswer is the JSON form of Answer in the answer column.
type storedAnswer struct {
	Result []byte       `json:"result,omitempty"`
	Error  *storedError `json:"error,omitempty"`
}

type storedError struct {
	Code    int32  `json:"code"`
	Message string `json:"message"`
	Data    []byte `json:"data,omitempty"`
}

func encodeAnswer(a Answer) ([]byte, error) {
	s := storedAnswer{Result: a.Result}
	if a.Error != nil {
		s.Error = &storedError{Code: a.Error.Code, Message: a.Error.Message, Data: a.Error.Data}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode answer: %w", err)
	}
	return b, nil
}

func decodeAnswer(b []byte) (Answer, error) {
	var s storedAnswer
	if err := json.Unmarshal(b, &s); err != nil {
		return Answer{}, fmt.Errorf("decode answer: %w", err)
	}
	a := Answer{Result: s.Result}
	if s.Error != nil {
		a.Error = &Error{Code: s.Error.Code, Message: s.Error.Message, Data: s.Error.Data}
	}
	return a, nil
}

// wrap adds op to a database error and files it under the store's sentinels.
func wrap(op string, err error) error { return sentinels.Wrap(op, err) }

var sentinels = pgdb.Sentinels{Exists: ErrExists, Unavailable: ErrUnavailable}
