package store

import (
	"context"
	"errors"
	"log/slog"
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
// before each: a database per case would cost more than the cases themselves.
var postgresImplementation = implementation{"postgres", func(t *testing.T) func(*testing.T, *clock) Store {
	pool := migratedPool(t)
	return func(t *testing.T, clk *clock) Store {
		if _, err := pool.Exec(t.Context(), `TRUNCATE sessions CASCADE`); err != nil {
			t.Fatal(err)
		}
		return NewPostgres(pool, testIdle, clk.Now, WithSweepBatch(testSweepBatch))
	}
}}

func TestConformance(t *testing.T) {
	runConformance(t, []implementation{memoryImplementation, postgresImplementation, cachedImplementation})
}

func TestPostgresMigrateTwice(t *testing.T) {
	pool := migratedPool(t)
	if err := pgdb.Migrate(t.Context(), pool, "session", migrations.FS, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("second migrate: %v", err)
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
	st := NewPostgres(pool, testIdle, nil)
	ctx := t.Context()
	ops := map[string]func() error{
		"create": func() error { return st.Create(ctx, Session{ID: "a"}) },
		"get":    func() error { _, err := st.Get(ctx, "a"); return err },
		"touch":  func() error { return st.Touch(ctx, "a", time.Now()) },
		"level":  func() error { return st.SetLogLevel(ctx, "a", "info") },
		"init":   func() error { return st.MarkInitialized(ctx, "a") },
		"delete": func() error { return st.Delete(ctx, "a") },
		"sweep":  func() error { _, err := st.SweepExpired(ctx, time.Now()); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s against an unreachable database: %v, want ErrUnavailable", name, err)
		}
	}
}

// BenchmarkPostgresLoadSession measures what a request of a stateful session costs
// the store: a Get, plus a Touch every touch interval (here: every request, the worst
// case).
func BenchmarkPostgresLoadSession(b *testing.B) {
	pool, err := pgxpool.New(b.Context(), pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if err := pgdb.Migrate(b.Context(), pool, "session", migrations.FS, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	st := NewPostgres(pool, time.Hour, nil)
	now := time.Now()
	if err := st.Create(b.Context(), Session{ID: "s", ProtocolVersion: "2025-11-25", ClientInfo: []byte(`{}`), ClientCapabilities: []byte(`{}`),
		CreatedUnixMs: now.UnixMilli(), LastSeenUnixMs: now.UnixMilli()}); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := st.Get(b.Context(), "s"); err != nil {
			b.Fatal(err)
		}
		if err := st.Touch(b.Context(), "s", now.Add(time.Duration(i+1)*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
	}
}
