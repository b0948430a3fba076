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
	"github.com/mcpmesh/mcpmesh/services/registry/internal/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migratedPool opens a pool on a fresh database holding the registry tables.
func migratedPool(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		return pgdb.Migrate(ctx, pool, "registry", migrations.FS, nil)
	})
}

// postgresImplementation shares one migrated database between the cases, emptied
// before each: a database per case would cost more than the cases themselves.
var postgresImplementation = implementation{"postgres", func(t *testing.T) func(*testing.T) Store {
	pool := migratedPool(t)
	return func(t *testing.T) Store {
		if _, err := pool.Exec(t.Context(), `TRUNCATE providers`); err != nil {
			t.Fatal(err)
		}
		return NewPostgres(pool, WithSweepBatch(testSweepBatch))
	}
}}

func TestConformance(t *testing.T) {
	runConformance(t, []implementation{memoryImplementation, postgresImplementation})
}

func TestPostgresMigrateTwice(t *testing.T) {
	pool := migratedPool(t)
	if err := pgdb.Migrate(t.Context(), pool, "registry", migrations.FS, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

// TestPostgresRevisionAdvancesOnWrites checks the revision column the cross-replica
// snapshot rebuild will read: every put moves it forward, a heartbeat does not.
func TestPostgresRevisionAdvancesOnWrites(t *testing.T) {
	pool := migratedPool(t)
	st := NewPostgres(pool)
	revision := func() int64 {
		t.Helper()
		var r int64
		if err := pool.QueryRow(t.Context(), `SELECT revision FROM providers WHERE name = 'a'`).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	put(t, st, leased("a", "L1"))
	first := revision()
	if _, err := st.Renew(t.Context(), "a", "L1", t0); err != nil {
		t.Fatal(err)
	}
	if got := revision(); got != first {
		t.Fatalf("renew moved the revision from %d to %d", first, got)
	}
	put(t, st, leased("a", "L2"))
	if got := revision(); got <= first {
		t.Fatalf("put left the revision at %d (was %d)", got, first)
	}
}

func TestPostgresUnreachableIsUnavailable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@"+addr+"/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := NewPostgres(pool)
	ctx := t.Context()
	ops := map[string]func() error{
		"put":            func() error { return st.Put(ctx, static("s")) },
		"get":            func() error { _, err := st.Get(ctx, "s"); return err },
		"renew":          func() error { _, err := st.Renew(ctx, "s", "L", time.Now()); return err },
		"delete":         func() error { return st.Delete(ctx, "s", "L") },
		"delete expired": func() error { _, err := st.DeleteExpired(ctx, time.Now()); return err },
		"list":           func() error { _, err := st.List(ctx); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s against an unreachable database: %v, want ErrUnavailable", name, err)
		}
	}
}
