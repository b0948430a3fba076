package mesh

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/registry"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// migrators lists, per target, the migrations of the tables the target owns.
var migrators = []struct {
	target  string
	migrate func(context.Context, *pgxpool.Pool, *slog.Logger) error
}{
	{meshconfig.TargetRegistry, registry.Migrate},
	{meshconfig.TargetSession, session.Migrate},
}

// openDatabase opens the pool of a process whose targets keep state in PostgreSQL and,
// when configured, migrates their tables. An unreachable database is not an error here:
// readiness reports it and requests get retryable errors until it is back.
func openDatabase(ctx context.Context, cfg meshconfig.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	if !cfg.UsesDatabase() {
		return nil, nil
	}
	pool, err := pgdb.Open(ctx, cfg.Database, logger)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Database.Redacted(), err)
	}
	if cfg.Database.MigrateOnStart {
		if err := Migrate(ctx, cfg, pool, logger); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return pool, nil
}

// Migrate applies the migrations of every target of cfg that owns tables ("all" owns
// every table). Each service migrates under its own advisory lock, so replicas that
// start together do not race.
func Migrate(ctx context.Context, cfg meshconfig.Config, pool *pgxpool.Pool, logger *slog.Logger) error {
	for _, m := range migrators {
		if !cfg.Runs(m.target) {
			continue
		}
		if err := m.migrate(ctx, pool, logger); err != nil {
			return fmt.Errorf("migrate %s tables: %w", m.target, err)
		}
	}
	return nil
}
