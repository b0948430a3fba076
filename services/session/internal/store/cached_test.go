package store

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/services/session/internal/migrations"
)

// cachedImplementation runs the conformance cases against the read cache in front of
// PostgreSQL: the cache must not change what any operation reports.
var cachedImplementation = implementation{"cached-postgres", func(t *testing.T) func(*testing.T, *clock) Store {
	pool := migratedPool(t)
	return func(t *testing.T, clk *clock) Store {
		if _, err := pool.Exec(t.Context(), `TRUNCATE sessions CASCADE`); err != nil {
			t.Fatal(err)
		}
		// As the service builds it: the store announces its changes in their statements.
		inner := NewPostgres(pool, testIdle, clk.Now, WithSweepBatch(testSweepBatch), WithChangeNotify(ChangedChannel))
		return NewCached(inner, CacheOptions{TTL: time.Hour, MaxEntries: 1000, Idle: testIdle, Now: clk.Now})
	}
}}

// TestCachedAcrossReplicas: two replicas cache the same session; a change or the end of
// the session on one reaches the other through the announcement, long before the TTL.
func TestCachedAcrossReplicas(t *testing.T) {
	pool := migratedPool(t)
	const idle = time.Hour
	opts := CacheOptions{TTL: time.Hour, MaxEntries: 1000, Idle: idle}
	a := NewCached(NewPostgres(pool, idle, nil, WithChangeNotify(ChangedChannel)), opts)
	b := NewCached(NewPostgres(pool, idle, nil, WithChangeNotify(ChangedChannel)), opts)
	listener := pgnotify.NewFromPool(pool, pgnotify.Settings{Handlers: map[string]pgnotify.Handler{ChangedChannel: b.Invalidate}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); listener.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitUntil(t, listener.Healthy)

	now := time.Now().UnixMilli()
	if err := a.Create(t.Context(), Session{ID: "s", ProtocolVersion: "2025-11-25", CreatedUnixMs: now, LastSeenUnixMs: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(t.Context(), "s"); err != nil || b.Len() != 1 {
		t.Fatalf("b's first read: %v (cached %d)", err, b.Len())
	}
	if err := a.SetLogLevel(t.Context(), "s", "debug"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		s, err := b.Get(t.Context(), "s")
		return err == nil && s.LogLevel == "debug"
	})
	if err := a.Delete(t.Context(), "s"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		_, err := b.Get(t.Context(), "s")
		return errors.Is(err, ErrNotFound)
	})
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	eventually.True(t, 10*time.Second, cond, "the cache follows the announcement")
}

// countingStore counts the reads that reach the store behind a cache.
type countingStore struct {
	Store
	reads atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, id string) (Session, error) {
	s.reads.Add(1)
	return s.Store.Get(ctx, id)
}

// TestCachedFence: with a fence, the cache serves copies only while its own heartbeats
// come back through the listener (a replica that hears nothing reads the store each
// time), still serves them from memory once they do, and a fenced write is answered
// only after the fence.
func TestCachedFence(t *testing.T) {
	pool := migratedPool(t)
	const idle, fence = time.Hour, 100 * time.Millisecond
	inner := &countingStore{Store: NewPostgres(pool, idle, nil, WithChangeNotify(ChangedChannel))}
	alive := AliveChannelName()
	c := NewCached(inner, CacheOptions{TTL: time.Hour, MaxEntries: 1000, Idle: idle, Fence: fence, DB: pool, AliveChannel: alive})
	now := time.Now().UnixMilli()
	if err := c.Create(t.Context(), Session{ID: "s", ProtocolVersion: "2025-11-25", CreatedUnixMs: now, LastSeenUnixMs: now}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.Get(t.Context(), "s"); err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.reads.Load(); n != 3 {
		t.Fatalf("without a listener hearing the heartbeats: %d store reads for 3 gets, want 3", n)
	}

	listener := pgnotify.NewFromPool(pool, pgnotify.Settings{Handlers: map[string]pgnotify.Handler{ChangedChannel: c.Invalidate, alive: c.Heard}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); listener.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitUntil(t, func() bool {
		before := inner.reads.Load()
		_, err := c.Get(t.Context(), "s")
		return err == nil && inner.reads.Load() == before
	})

	start := time.Now()
	if err := c.SetLogLevel(t.Context(), "s", "debug"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < fence {
		t.Fatalf("a fenced write was answered after %s, before the fence (%s)", waited, fence)
	}
	if s, err := c.Get(t.Context(), "s"); err != nil || s.LogLevel != "debug" {
		t.Fatalf("after the write: %+v, %v", s, err)
	}
}

// BenchmarkCachedGet measures a cache hit, the hot path of every request of a busy
// session, without and with the fence (its heartbeats running through a real
// listener), and reports how many gets reached the store.
func BenchmarkCachedGet(b *testing.B) {
	pool, err := pgxpool.New(b.Context(), pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if err := pgdb.Migrate(b.Context(), pool, "session", migrations.FS, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMilli()
	if err := NewPostgres(pool, time.Hour, nil).Create(b.Context(), Session{ID: "s", ProtocolVersion: "2025-11-25", CreatedUnixMs: now, LastSeenUnixMs: now}); err != nil {
		b.Fatal(err)
	}
	for _, fence := range []time.Duration{0, 100 * time.Millisecond} {
		b.Run("fence="+fence.String(), func(b *testing.B) {
			inner := &countingStore{Store: NewPostgres(pool, time.Hour, nil)}
			alive := AliveChannelName()
			c := NewCached(inner, CacheOptions{TTL: time.Hour, MaxEntries: 1000, Idle: time.Hour, Fence: fence, DB: pool, AliveChannel: alive})
			listener := pgnotify.NewFromPool(pool, pgnotify.Settings{Handlers: map[string]pgnotify.Handler{ChangedChannel: c.Invalidate, alive: c.Heard}})
			ctx, cancel := context.WithCancel(b.Context())
			done := make(chan struct{})
			go func() { defer close(done); listener.Run(ctx) }()
			defer func() { cancel(); <-done }()
			eventually.True(b, 10*time.Second, func() bool {
				before := inner.reads.Load()
				_, err := c.Get(b.Context(), "s")
				return err == nil && inner.reads.Load() == before
			}, "the cache serves the session")
			before := inner.reads.Load()
			for b.Loop() {
				if _, err := c.Get(b.Context(), "s"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(inner.reads.Load()-before)/float64(b.N), "store-reads/op")
		})
	}
}
