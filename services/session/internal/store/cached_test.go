package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
)

// cachedImplementation runs the conformance cases against the read cache in front of
// PostgreSQL: the cache must not change what any operation reports.
var cachedImplementation = implementation{"cached-postgres", func(t *testing.T) func(*testing.T, *clock) Store {
	open := postgresImplementation.setup(t)
	return func(t *testing.T, clk *clock) Store {
		return NewCached(open(t, clk), time.Hour, 1000, testIdle, clk.Now, nil, nil)
	}
}}

// TestCachedAcrossReplicas: two replicas cache the same session; a change or the end of
// the session on one reaches the other through the announcement, long before the TTL.
func TestCachedAcrossReplicas(t *testing.T) {
	pool := migratedPool(t)
	const idle = time.Hour
	announced := make(chan error, 8)
	a := NewCached(NewPostgres(pool, idle, nil), time.Hour, 1000, idle, nil, pool, func(err error) { announced <- err })
	b := NewCached(NewPostgres(pool, idle, nil), time.Hour, 1000, idle, nil, pool, nil)
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
	select {
	case err := <-announced:
		t.Fatalf("announcement failed: %v", err)
	default:
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	eventually.True(t, 10*time.Second, cond, "the cache follows the announcement")
}
