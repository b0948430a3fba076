package federation

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/migrations"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// Migrate creates or updates the federation's tables (the upstreams of the admin
// API), under an advisory lock so that replicas starting together do not race.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return pgdb.Migrate(ctx, pool, "federation", migrations.FS, logger)
}

// CheckSchema reports (as a *pgdb.SchemaError) tables that are missing or older than
// this binary's migrations, without changing anything.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	return pgdb.CheckSchema(ctx, pool, "federation", migrations.FS)
}

// Migrations names the federation's migrations (its version table is
// pgdb.VersionTable of the name), for `mcpmesh migrate status` and `mcpmesh migrate down`.
func Migrations() (service string, files fs.FS) { return "federation", migrations.FS }
