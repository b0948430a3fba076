package pgdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// applicationName tags mcpmesh connections in pg_stat_activity unless the URL sets one.
const applicationName = "mcpmesh"

// Open builds a bounded, lazy connection pool for cfg. It fails only for bad
// configuration (invalid settings, unparsable URL, unreadable or empty password file): an
// unreachable database is logged as a warning after one ping bounded by ConnectTimeout,
// and the returned pool connects when the database comes back. The caller closes the pool.
//
// Every connection gets statement_timeout = StatementTimeout and uses pgx's default
// statement cache (QueryExecModeCacheStatement: each query text is prepared once per
// connection). A nil logger discards. Settings in the Config win over pool_* parameters
// in the URL.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.URL == "" {
		return nil, errors.New("open database: database.url is empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	poolCfg, err := poolConfig(cfg.withDefaults())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Redacted(), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, poolCfg.ConnConfig.ConnectTimeout)
	defer cancel()
	if err := Ping(pingCtx, pool); err != nil {
		logger.WarnContext(ctx, "database not reachable yet; continuing, readiness stays false until it is",
			slog.String("database", cfg.Redacted()), slog.Any("error", err))
	} else {
		logger.InfoContext(ctx, "database connected", slog.String("database", cfg.Redacted()),
			slog.Int("max_conns", int(poolCfg.MaxConns)))
	}
	return pool, nil
}

// poolConfig turns a validated Config with defaults applied into a pgxpool configuration.
func poolConfig(cfg Config) (*pgxpool.Config, error) {
	poolCfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("database.url: not a valid PostgreSQL URL or DSN: %w", err)
	}
	if cfg.PasswordFile != "" {
		password, err := readPasswordFile(cfg.PasswordFile)
		if err != nil {
			return nil, err
		}
		poolCfg.ConnConfig.Password = password
	}
	poolCfg.MaxConns = cfg.MaxConns
	poolCfg.MinConns = cfg.MinConns
	poolCfg.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	poolCfg.ConnConfig.RuntimeParams["statement_timeout"] = postgresMillis(cfg.StatementTimeout)
	if poolCfg.ConnConfig.RuntimeParams["application_name"] == "" {
		poolCfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	}
	return poolCfg, nil
}

// readPasswordFile returns the file's content without trailing line breaks (files written
// by editors and Kubernetes secrets created with echo end with one).
func readPasswordFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("database.password_file: %w", err)
	}
	password := strings.TrimRight(string(data), "\r\n")
	if password == "" {
		return "", fmt.Errorf("database.password_file: %s is empty", path)
	}
	return password, nil
}

// postgresMillis renders d as a PostgreSQL duration in whole milliseconds, rounding up so
// a sub-millisecond timeout does not become 0 (which would disable it).
func postgresMillis(d time.Duration) string {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return strconv.FormatInt(int64(ms), 10) + "ms"
}

// Ping checks that the database answers, for readiness probes. It is bounded by ctx;
// the caller sets a deadline (a connection attempt is also bounded by connect_timeout).
func Ping(ctx context.Context, pool *pgxpool.Pool) error {
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}
