package mesh

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/health"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/registry"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// migrators lists, per target, the migrations of the tables the target owns and the
// check that they are current.
var migrators = []struct {
	target  string
	migrate func(context.Context, *pgxpool.Pool, *slog.Logger) error
	check   func(context.Context, *pgxpool.Pool) error
	files   func() (service string, files fs.FS)
}{
	{meshconfig.TargetRegistry, registry.Migrate, registry.CheckSchema, registry.Migrations},
	{meshconfig.TargetSession, session.Migrate, session.CheckSchema, session.Migrations},
	{meshconfig.TargetFederation, federation.Migrate, federation.CheckSchema, federation.Migrations},
}

// openDatabase opens the pool of a process whose targets use PostgreSQL and makes sure
// the tables they own are there (migrating them when database.migrate_on_start is set).
// It refuses to start when waiting cannot help: a database that does not exist,
// rejected credentials, TLS demanded of a server without it, missing or old tables.
// A database that does not answer yet is not an error: readiness reports it and
// requests get retryable errors until it is back (and has its tables).
func openDatabase(ctx context.Context, cfg meshconfig.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	if !cfg.UsesDatabase() {
		return nil, nil
	}
	pool, err := pgdb.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*pgxpool.Pool, error) {
		pool.Close()
		return nil, err
	}
	var connErr *pgdb.ConnectionError
	switch err := pgdb.CheckConnection(ctx, pool, cfg.Database); {
	case err == nil:
		logger.InfoContext(ctx, "database connected", slog.String("database", cfg.Database.Redacted()))
	case errors.As(err, &connErr) && connErr.Problem.NeedsOperator():
		return fail(err)
	default:
		logger.WarnContext(ctx, "database not reachable yet; serving, not ready until it answers",
			slog.String("database", cfg.Database.Redacted()), slog.String("problem", err.Error()))
		return pool, nil
	}
	if cfg.Database.MigrateOnStart {
		if err := Migrate(ctx, cfg, pool, logger); err != nil {
			return fail(err)
		}
		return pool, nil
	}
	if err := CheckSchema(ctx, cfg, pool); err != nil {
		return fail(err)
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

// OwnsTables reports whether a target of cfg owns database tables.
func OwnsTables(cfg meshconfig.Config) []string {
	var out []string
	for _, m := range migrators {
		if cfg.Runs(m.target) {
			out = append(out, m.target)
		}
	}
	return out
}

// CheckSchema returns the first target of cfg whose tables are missing or behind (a
// *pgdb.SchemaError naming `mcpmesh migrate`), or a database error.
func CheckSchema(ctx context.Context, cfg meshconfig.Config, pool *pgxpool.Pool) error {
	for _, m := range migrators {
		if !cfg.Runs(m.target) {
			continue
		}
		if err := m.check(ctx, pool); err != nil {
			return err
		}
	}
	return nil
}

// databaseReady is the database part of readiness: the database answers, and its
// tables have been seen current once (checked again on every call until then, so a
// database that came up empty keeps the process unready with a message naming
// `mcpmesh migrate`). The error is one line for people.
func (m *Mesh) databaseReady(ctx context.Context) error {
	if err := pgdb.Ping(ctx, m.db); err != nil {
		_, msg := pgdb.Diagnose(err, m.cfg.Database)
		return errors.New(msg)
	}
	if m.schemaCurrent.Load() {
		return nil
	}
	if err := CheckSchema(ctx, m.cfg, m.db); err != nil {
		if errors.Is(err, pgdb.ErrSchemaBehind) {
			return err
		}
		_, msg := pgdb.Diagnose(err, m.cfg.Database)
		return errors.New(msg)
	}
	m.schemaCurrent.Store(true)
	return nil
}

// healthDatabase is the database as the health service reports it (nil without one).
func (m *Mesh) healthDatabase() *health.Database {
	if m.db == nil {
		return nil
	}
	return &health.Database{Name: "postgres", Address: m.cfg.Database.Address(), Check: m.databaseReady}
}

// MigrationStatus lists the migrations of every target of cfg that owns tables, each
// with whether the database has it.
func MigrationStatus(ctx context.Context, cfg meshconfig.Config, pool *pgxpool.Pool) ([]pgdb.MigrationStatus, error) {
	var all []pgdb.MigrationStatus
	for _, m := range migrators {
		if !cfg.Runs(m.target) {
			continue
		}
		service, files := m.files()
		statuses, err := pgdb.Status(ctx, pool, service, files)
		if err != nil {
			return nil, err
		}
		all = append(all, statuses...)
	}
	return all, nil
}

// MigrateDown undoes the newest applied migration of service (a target that owns
// tables: registry, session or federation).
func MigrateDown(ctx context.Context, service string, pool *pgxpool.Pool, logger *slog.Logger) (pgdb.MigrationStatus, error) {
	var owners []string
	for _, m := range migrators {
		if m.target == service {
			name, files := m.files()
			return pgdb.Down(ctx, pool, name, files, logger)
		}
		owners = append(owners, m.target)
	}
	return pgdb.MigrationStatus{}, fmt.Errorf("%q owns no tables; name one of %v", service, owners)
}

// upstreamStore is where the federation keeps the upstreams of its admin API: the
// database's federation_upstreams table, shared by every replica, or (without a
// database) the process's memory.
func (m *Mesh) upstreamStore() federation.UpstreamStore {
	if m.db == nil {
		return nil
	}
	return federation.NewPGStore(m.db, m.telemetryFor(meshconfig.TargetFederation).Logger)
}
