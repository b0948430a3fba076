package pgdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// applicationName tags mcpmesh connections in pg_stat_activity unless the URL sets one.
const applicationName = "mcpmesh"

// Open builds a bounded, lazy connection pool for cfg without connecting: it fails
// only for bad configuration (invalid settings, unparsable URL, unreadable or empty
// password file). CheckConnection then says whether the database answers, and if not,
// whether waiting can help. The caller closes the pool.
//
// Every connection gets statement_timeout = StatementTimeout and uses pgx's default
// statement cache (QueryExecModeCacheStatement: each query text is prepared once per
// connection). Settings in the Config win over pool_* parameters in the URL.
func Open(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
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
	return pool, nil
}

// ConnectionError is a failed CheckConnection: what kind of problem, and one line for
// people saying what is wrong and what to do (never the password).
type ConnectionError struct {
	Problem Problem
	Message string
	Err     error
}

func (e *ConnectionError) Error() string { return e.Message }
func (e *ConnectionError) Unwrap() error { return e.Err }

// CheckConnection pings the database once, bounded by cfg's connect timeout, and
// returns nil or a *ConnectionError (see Diagnose).
func CheckConnection(ctx context.Context, pool *pgxpool.Pool, cfg Config) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.withDefaults().ConnectTimeout)
	defer cancel()
	err := Ping(ctx, pool)
	if err == nil {
		return nil
	}
	problem, msg := Diagnose(err, cfg)
	return &ConnectionError{Problem: problem, Message: msg, Err: err}
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
