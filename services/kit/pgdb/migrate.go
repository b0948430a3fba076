package pgdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// serviceName limits service names to what is safe as part of a table name.
var serviceName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// VersionTable returns the goose version table of a service, e.g. "session_schema_version".
func VersionTable(service string) string { return service + "_schema_version" }

// Migrate applies the pending migrations of one service: migrations is an fs.FS whose root
// holds goose SQL files named NNNNN_name.sql (typically an embed.FS, via fs.Sub if they
// live in a folder). Applied versions are recorded in the service's own table,
// VersionTable(service). A PostgreSQL advisory lock derived from that table name is held
// while migrating, so replicas starting together apply each migration exactly once: the
// others wait, then find nothing pending. Waiting is bounded by ctx only.
//
// Migrations run on dedicated connections with statement_timeout disabled (the pool's
// timeout is meant for requests, not for building an index) and the simple protocol, so
// a goose StatementBegin/End block may hold several statements. A nil logger discards.
func Migrate(ctx context.Context, pool *pgxpool.Pool, service string, migrations fs.FS, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return withProvider(ctx, pool, service, migrations, logger, func(provider *goose.Provider) error {
		results, err := provider.Up(ctx)
		for _, r := range results {
			if r.Error != nil {
				continue
			}
			logger.InfoContext(ctx, "applied database migration", slog.String("service", service),
				slog.Int64("version", r.Source.Version), slog.String("file", r.Source.Path),
				slog.Duration("duration", r.Duration))
		}
		return err
	})
}

// MigrationStatus is one migration of a service and whether the database has it.
type MigrationStatus struct {
	Service string
	Version int64
	// File is the migration's file name, e.g. "00003_events.sql".
	File string
	// Applied is false for a pending migration; AppliedAt is then zero.
	Applied   bool
	AppliedAt time.Time
}

// Status lists the migrations of one service, oldest first, each with whether it is
// applied. It applies and undoes nothing.
func Status(ctx context.Context, pool *pgxpool.Pool, service string, migrations fs.FS) ([]MigrationStatus, error) {
	var out []MigrationStatus
	err := withProvider(ctx, pool, service, migrations, slog.New(slog.DiscardHandler), func(provider *goose.Provider) error {
		statuses, err := provider.Status(ctx)
		if err != nil {
			return err
		}
		for _, st := range statuses {
			out = append(out, MigrationStatus{
				Service:   service,
				Version:   st.Source.Version,
				File:      path.Base(st.Source.Path),
				Applied:   st.State == goose.StateApplied,
				AppliedAt: st.AppliedAt,
			})
		}
		return nil
	})
	return out, err
}

// ErrNothingToUndo is returned by Down when no migration of the service is applied.
var ErrNothingToUndo = errors.New("no migration is applied")

// Down undoes the newest applied migration of one service (its "-- +goose Down"
// section), under the same advisory lock as Migrate, and returns which it undid. It
// is for an operator who must take a release's schema change back (see
// docs/operations/database.md); nothing runs it automatically.
func Down(ctx context.Context, pool *pgxpool.Pool, service string, migrations fs.FS, logger *slog.Logger) (MigrationStatus, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var undone MigrationStatus
	err := withProvider(ctx, pool, service, migrations, logger, func(provider *goose.Provider) error {
		r, err := provider.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return ErrNothingToUndo
		}
		if err != nil {
			return err
		}
		undone = MigrationStatus{Service: service, Version: r.Source.Version, File: path.Base(r.Source.Path)}
		logger.InfoContext(ctx, "undid database migration", slog.String("service", service),
			slog.Int64("version", r.Source.Version), slog.String("file", r.Source.Path))
		return nil
	})
	return undone, err
}

// withProvider runs fn with a goose provider for one service's migrations on a
// dedicated migration pool, holding the service's advisory lock around each operation
// that changes the schema.
func withProvider(ctx context.Context, pool *pgxpool.Pool, service string, migrations fs.FS, logger *slog.Logger, fn func(*goose.Provider) error) error {
	if !serviceName.MatchString(service) {
		return fmt.Errorf("migrate: service name %q must match %s", service, serviceName)
	}
	if migrations == nil {
		return fmt.Errorf("migrate %s: no migrations", service)
	}
	table := VersionTable(service)

	migrationPool, err := newMigrationPool(ctx, pool)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", service, err)
	}
	defer migrationPool.Close()
	db := stdlib.OpenDBFromPool(migrationPool)
	defer func() { _ = db.Close() }() // before migrationPool.Close (LIFO)

	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations,
		goose.WithTableName(table),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(&advisoryLocker{key: advisoryKey(table), service: service, logger: logger}),
		goose.WithSlog(logger),
	)
	if err != nil {
		return fmt.Errorf("migrate %s: read migrations: %w", service, err)
	}
	if err := fn(provider); err != nil {
		return fmt.Errorf("migrate %s: %w", service, err)
	}
	return nil
}

// newMigrationPool returns a small pool with the same connection settings as pool but no
// statement timeout and the simple protocol (see Migrate).
func newMigrationPool(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config() // a deep copy
	cfg.MaxConns = 2     // goose works on one connection; one spare
	cfg.MinConns = 0
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "0"
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	migrationPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("migration pool: %w", err)
	}
	return migrationPool, nil
}

// advisoryKey derives the advisory lock key from the version table name, so services
// migrate independently while replicas of one service exclude each other.
func advisoryKey(table string) int64 {
	h := fnv.New64a()
	h.Write([]byte("mcpmesh/migrate/" + table))
	return int64(h.Sum64()) //nolint:gosec // a lock key: wrapping to negative values is fine
}

// advisoryLocker is a goose session locker that blocks in pg_advisory_lock (goose's own
// locker polls pg_try_advisory_lock every second or more) and says when it waits.
type advisoryLocker struct {
	key     int64
	service string
	logger  *slog.Logger
}

func (l *advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	var locked bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", l.key).Scan(&locked); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	if locked {
		return nil
	}
	l.logger.InfoContext(ctx, "waiting for the migration lock held by another replica", slog.String("service", l.service))
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.key); err != nil {
		return fmt.Errorf("wait for migration lock: %w", err)
	}
	return nil
}

func (l *advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var unlocked bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", l.key).Scan(&unlocked); err != nil {
		// The connection is closed right after, which releases a session lock anyway.
		return fmt.Errorf("release migration lock: %w", err)
	}
	if !unlocked {
		return errors.New("release migration lock: lock was not held")
	}
	return nil
}
