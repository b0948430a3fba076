package store

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ChangedChannel is the PostgreSQL notification channel on which replicas announce
// that a session record changed or ended (the payload is the session id), so that
// other replicas drop their cached copy.
const ChangedChannel = "mcpmesh_session_changed"

// Cached keeps recently read sessions of a shared store for a short time, so that a
// busy session costs no database read per request. A replica that changes or ends a
// session drops its copy and announces the change on ChangedChannel; the others drop
// theirs when they hear it (Invalidate), or after the TTL at the latest, which bounds
// how stale a copy can be while notifications are lost.
type Cached struct {
	inner   Store
	ttl     time.Duration
	max     int
	now     func() time.Time
	idle    time.Duration
	db      *pgxpool.Pool
	onError func(error)
	seed    maphash.Seed
	shards  [shardCount]cacheShard
}

type cacheShard struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	session Session
	until   time.Time
}

var _ Store = (*Cached)(nil)

// NewCached caches inner's sessions for ttl, at most maxEntries of them (the whole
// shard is dropped when one overflows: simple, and bounded). idle is the session idle
// timeout, so that a cached copy that looks expired is read again. db announces
// changes (nil: no announcements, for tests); onError hears announcement failures.
func NewCached(inner Store, ttl time.Duration, maxEntries int, idle time.Duration, now func() time.Time, db *pgxpool.Pool, onError func(error)) *Cached {
	if now == nil {
		now = time.Now
	}
	if onError == nil {
		onError = func(error) {}
	}
	c := &Cached{inner: inner, ttl: ttl, max: max(maxEntries/shardCount, 1), now: now, idle: idle, db: db, onError: onError, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].entries = map[string]cacheEntry{}
	}
	return c
}

func (c *Cached) shard(id string) *cacheShard {
	return &c.shards[maphash.String(c.seed, id)%shardCount]
}

// Invalidate drops the cached copy of a session (another replica changed it). A nil
// cache has nothing to drop.
func (c *Cached) Invalidate(id string) {
	if c == nil {
		return
	}
	sh := c.shard(id)
	sh.mu.Lock()
	delete(sh.entries, id)
	sh.mu.Unlock()
}

// InvalidateAll drops every cached copy (after notifications may have been missed).
func (c *Cached) InvalidateAll() {
	if c == nil {
		return
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.entries)
		sh.mu.Unlock()
	}
}

// Len counts cached sessions.
func (c *Cached) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}

func (c *Cached) put(s Session) {
	sh := c.shard(s.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.entries) >= c.max {
		clear(sh.entries)
	}
	sh.entries[s.ID] = cacheEntry{session: s, until: c.now().Add(c.ttl)}
}

// Get returns a fresh cached copy, or reads the store and caches the result.
func (c *Cached) Get(ctx context.Context, id string) (Session, error) {
	now := c.now()
	sh := c.shard(id)
	sh.mu.Lock()
	e, ok := sh.entries[id]
	sh.mu.Unlock()
	// A copy that looks expired may have been touched by another replica: read it.
	if ok && now.Before(e.until) && (c.idle <= 0 || now.UnixMilli()-e.session.LastSeenUnixMs <= c.idle.Milliseconds()) {
		return e.session, nil
	}
	s, err := c.inner.Get(ctx, id)
	if err != nil {
		c.Invalidate(id)
		return Session{}, err
	}
	c.put(s)
	return s, nil
}

// Touch records activity and moves the cached copy's last-seen time with it.
func (c *Cached) Touch(ctx context.Context, id string, now time.Time) error {
	if err := c.inner.Touch(ctx, id, now); err != nil {
		c.Invalidate(id)
		return err
	}
	sh := c.shard(id)
	sh.mu.Lock()
	if e, ok := sh.entries[id]; ok && now.UnixMilli() > e.session.LastSeenUnixMs {
		e.session.LastSeenUnixMs = now.UnixMilli()
		sh.entries[id] = e
	}
	sh.mu.Unlock()
	return nil
}

// changed drops the local copy and tells the other replicas, after a write.
func (c *Cached) changed(ctx context.Context, id string, err error) error {
	c.Invalidate(id)
	if c.db != nil {
		if _, nerr := c.db.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangedChannel, id); nerr != nil {
			c.onError(fmt.Errorf("announce change of session %s: %w", id, nerr))
		}
	}
	return err
}

// Create stores a new session (nobody can have a copy of it yet).
func (c *Cached) Create(ctx context.Context, s Session) error { return c.inner.Create(ctx, s) }

// SetLogLevel changes the record: every replica's copy is dropped.
func (c *Cached) SetLogLevel(ctx context.Context, id, level string) error {
	return c.changed(ctx, id, c.inner.SetLogLevel(ctx, id, level))
}

// MarkInitialized changes the record: every replica's copy is dropped.
func (c *Cached) MarkInitialized(ctx context.Context, id string) error {
	return c.changed(ctx, id, c.inner.MarkInitialized(ctx, id))
}

// Delete ends the session: every replica's copy is dropped.
func (c *Cached) Delete(ctx context.Context, id string) error {
	return c.changed(ctx, id, c.inner.Delete(ctx, id))
}

// Subscribe is not part of the cached record.
func (c *Cached) Subscribe(ctx context.Context, id, uri string) error {
	return c.inner.Subscribe(ctx, id, uri)
}

// Unsubscribe is not part of the cached record.
func (c *Cached) Unsubscribe(ctx context.Context, id, uri string) error {
	return c.inner.Unsubscribe(ctx, id, uri)
}

// Subscribers reads the store.
func (c *Cached) Subscribers(ctx context.Context, uri string) ([]string, error) {
	return c.inner.Subscribers(ctx, uri)
}

// SweepExpired sweeps the store; cached copies of swept sessions expire by
// themselves (a copy that looks expired is never served).
func (c *Cached) SweepExpired(ctx context.Context, now time.Time) (int, error) {
	return c.inner.SweepExpired(ctx, now)
}

// CountLive counts in the store (copies are not sessions of their own).
func (c *Cached) CountLive(ctx context.Context) (int64, error) { return c.inner.CountLive(ctx) }
