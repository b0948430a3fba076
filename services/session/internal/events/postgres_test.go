package events

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/services/session/internal/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migratedPool opens a pool on a fresh database holding the session tables.
func migratedPool(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		return pgdb.Migrate(ctx, pool, "session", migrations.FS, nil)
	})
}

// postgresImplementation shares one migrated database between the cases, emptied
// before each. A small sweep batch makes the sweep cases run several batches.
var postgresImplementation = implementation{"postgres", func(t *testing.T) func(*testing.T, int, *Waker, func() time.Time) Log {
	pool := migratedPool(t)
	return func(t *testing.T, perSession int, waker *Waker, now func() time.Time) Log {
		if _, err := pool.Exec(t.Context(), `TRUNCATE session_events, session_event_heads`); err != nil {
			t.Fatal(err)
		}
		return NewPostgres(pool, perSession, waker, now, WithSweepBatch(2))
	}
}}

// Two replicas on one database see one log: numbers continue across them and an
// origin recorded through one is skipped through the other.
func TestPostgresReplicasShareTheLog(t *testing.T) {
	pool := migratedPool(t)
	a := NewPostgres(pool, 100, NewWaker(), nil)
	b := NewPostgres(pool, 100, NewWaker(), nil)
	ctx := t.Context()
	if err := a.Append(ctx, "s", withOrigin("x", "o1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Append(ctx, "s", withOrigin("x", "o1"), draft("y")); err != nil {
		t.Fatal(err)
	}
	got, err := a.Read(ctx, "s", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	wantSeqs(t, "read through a", got, 1, 2)
	if got[1].Method != "y" {
		t.Fatalf("second event %+v", got[1])
	}
}

// Ids PostgreSQL text cannot hold are refused on append and empty elsewhere, never a
// database error a caller would mistake for an outage or a bug.
func TestPostgresUnstorableSessionIDs(t *testing.T) {
	pool := migratedPool(t)
	log := NewPostgres(pool, 100, NewWaker(), nil)
	ctx := t.Context()
	for _, id := range []string{"a\x00b", "\xff"} {
		if err := log.Append(ctx, id, draft("x")); err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("append to %q: %v, want a plain error", id, err)
		}
		if got, err := log.Read(ctx, id, 0, 10); err != nil || len(got) != 0 {
			t.Errorf("read %q: %v, %v", id, got, err)
		}
		if w, err := log.Window(ctx, id); err != nil || w != (Window{First: 1}) {
			t.Errorf("window %q: %+v, %v", id, w, err)
		}
		if err := log.Forget(ctx, id); err != nil {
			t.Errorf("forget %q: %v", id, err)
		}
	}
}

func TestPostgresUnreachableIsUnavailable(t *testing.T) {
	// A port that was just free: nothing listens there.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@"+addr+"/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	log := NewPostgres(pool, 100, NewWaker(), nil)
	ctx := t.Context()
	ops := map[string]func() error{
		"append": func() error { return log.Append(ctx, "s", draft("x")) },
		"read":   func() error { _, err := log.Read(ctx, "s", 0, 10); return err },
		"window": func() error { _, err := log.Window(ctx, "s"); return err },
		"forget": func() error { return log.Forget(ctx, "s") },
		"sweep":  func() error { _, err := log.Sweep(ctx, time.Now()); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s against an unreachable database: %v, want ErrUnavailable", name, err)
		}
	}
}
