package pgdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
)

// ErrSchemaBehind marks a database whose tables are missing or older than the binary's
// migrations: the service would fail every query ("relation ... does not exist").
var ErrSchemaBehind = errors.New("database schema is behind")

// SchemaError says which service's tables are behind and what to do.
type SchemaError struct {
	Service string
	// Current is the newest applied migration (0: none, the tables do not exist).
	Current int64
	// Want is the newest migration this binary has.
	Want int64
}

func (e *SchemaError) Error() string {
	state := fmt.Sprintf("at version %d of %d", e.Current, e.Want)
	if e.Current == 0 {
		state = "missing"
	}
	return fmt.Sprintf("the %s tables are %s: run `mcpmesh migrate` against this database (or set database.migrate_on_start: true)", e.Service, state)
}

func (e *SchemaError) Unwrap() error { return ErrSchemaBehind }

// CheckSchema compares the service's applied migrations (its goose version table) with
// the newest one in migrations, without taking the migration lock or changing anything.
// It returns a *SchemaError (errors.Is ErrSchemaBehind) when the tables are missing or
// behind, nil when they are current (or newer: a binary rolled back keeps working on
// tables that only gained columns), and a wrapped database error when it could not ask.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool, service string, migrations fs.FS) error {
	want, err := newestMigration(migrations)
	if err != nil {
		return fmt.Errorf("check %s schema: %w", service, err)
	}
	current, err := appliedVersion(ctx, pool, VersionTable(service))
	if err != nil {
		return fmt.Errorf("check %s schema: %w", service, err)
	}
	if current < want {
		return &SchemaError{Service: service, Current: current, Want: want}
	}
	return nil
}

// newestMigration is the highest version among the goose files at the root of migrations.
func newestMigration(migrations fs.FS) (int64, error) {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	var newest int64
	for _, name := range names {
		v, err := goose.NumericComponent(path.Base(name))
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", name, err)
		}
		newest = max(newest, v)
	}
	if newest == 0 {
		return 0, errors.New("no migrations")
	}
	return newest, nil
}

// appliedVersion is the newest applied version recorded in table, 0 when the table
// does not exist.
func appliedVersion(ctx context.Context, pool *pgxpool.Pool, table string) (int64, error) {
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int64
	q := "SELECT coalesce(max(version_id), 0) FROM " + pgx.Identifier{table}.Sanitize() + " WHERE is_applied"
	if err := pool.QueryRow(ctx, q).Scan(&v); err != nil {
		return 0, err
	}
	return v, nil
}
