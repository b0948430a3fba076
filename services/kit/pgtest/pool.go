package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// NewPool opens a pool on a fresh database (NewDatabase), closed when the test ends,
// and prepares it with migrate when that is not nil (a service's migrations).
func NewPool(t testing.TB, migrate func(context.Context, *pgxpool.Pool) error) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDatabase(t))
	if err != nil {
		t.Fatalf("pgtest: open a pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if migrate != nil {
		if err := migrate(context.Background(), pool); err != nil {
			t.Fatalf("pgtest: migrate: %v", err)
		}
	}
	return pool
}
