package session

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/session/internal/migrations"
)

// Migrate creates or upgrades the session service's tables on pool. It is safe to call
// from several replicas at once (pgdb.Migrate holds an advisory lock) and does
// nothing when the schema is current.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return pgdb.Migrate(ctx, pool, "session", migrations.FS, logger)
}

// CheckSchema reports (as a *pgdb.SchemaError) tables that are missing or older than
// this binary's migrations, without changing anything.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	return pgdb.CheckSchema(ctx, pool, "session", migrations.FS)
}

// Migrations names the session service's migrations (its version table is
// pgdb.VersionTable of the name), for `mcpmesh migrate status` and `mcpmesh migrate down`.
func Migrations() (service string, files fs.FS) { return "session", migrations.FS }
