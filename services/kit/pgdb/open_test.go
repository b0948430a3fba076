package pgdb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openPool opens cfg and closes the pool at cleanup.
func openPool(t *testing.T, cfg pgdb.Config) *pgxpool.Pool {
	t.Helper()
	pool, err := pgdb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func testConfig(url string) pgdb.Config {
	cfg := pgdb.DefaultConfig()
	cfg.URL = url
	cfg.ConnectTimeout = 2 * time.Second
	return cfg
}

func TestOpenAndPing(t *testing.T) {
	t.Parallel()
	pool := openPool(t, testConfig(pgtest.NewDatabase(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pgdb.Ping(ctx, pool); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	var timeout, app string
	if err := pool.QueryRow(ctx, "SELECT current_setting('statement_timeout'), current_setting('application_name')").Scan(&timeout, &app); err != nil {
		t.Fatal(err)
	}
	if timeout != "5s" || app != "mcpmesh" {
		t.Errorf("statement_timeout, application_name = %q, %q; want 5s, mcpmesh", timeout, app)
	}
	if got := pool.Config().MaxConns; got != pgdb.DefaultMaxConns {
		t.Errorf("MaxConns = %d, want %d", got, pgdb.DefaultMaxConns)
	}
}

func TestOpenWhileDatabaseDown(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: connections are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := testConfig("postgres://mesh:pw@" + addr + "/mesh?sslmode=disable")
	cfg.ConnectTimeout = 500 * time.Millisecond

	pool := openPool(t, cfg) // no error although the database is down
	err = pgdb.Ping(context.Background(), pool)
	if err == nil {
		t.Fatal("Ping succeeded against a closed port")
	}
	if !pgdb.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false, want true", err)
	}
	// A request needing the database fails the same way instead of hanging.
	_, err = pool.Exec(context.Background(), "SELECT 1")
	if !pgdb.IsUnavailable(err) {
		t.Errorf("Exec error %v: IsUnavailable = false, want true", err)
	}
}

func TestOpenBadConfig(t *testing.T) {
	t.Parallel()
	tests := map[string]pgdb.Config{
		"empty url":             {},
		"unparsable url":        {URL: "postgres://db:notaport/x"},
		"missing password file": {URL: "postgres://db/x", PasswordFile: filepath.Join(t.TempDir(), "missing")},
		"empty password file":   {URL: "postgres://db/x", PasswordFile: writeFile(t, "\n")},
		"invalid settings":      {URL: "postgres://db/x", MaxConns: -1},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			pool, err := pgdb.Open(context.Background(), cfg)
			if err == nil {
				pool.Close()
				t.Fatal("Open succeeded, want a configuration error")
			}
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPasswordFileOverridesURLPassword(t *testing.T) {
	t.Parallel()
	dbURL, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Skipf("password test needs a URL-form DSN: %v", err)
	}
	password, hasPassword := dbURL.User.Password()
	if !hasPassword {
		password = "unused-by-trust-auth"
	}
	dbURL.User = url.UserPassword(dbURL.User.Username(), "wrong-password")

	cfg := testConfig(dbURL.String())
	cfg.PasswordFile = writeFile(t, password+"\n")
	pool := openPool(t, cfg)
	if got := pool.Config().ConnConfig.Password; got != password {
		t.Errorf("pool password = %q, want the file's %q", got, password)
	}
	if err := pgdb.Ping(context.Background(), pool); err != nil {
		t.Errorf("Ping with the password from the file: %v", err)
	}

	if hasPassword { // the server checks passwords: the URL's wrong one must fail
		cfg.PasswordFile = ""
		pool := openPool(t, cfg)
		var pgErr *pgconn.PgError
		if err := pgdb.Ping(context.Background(), pool); !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
			t.Errorf("Ping with the URL's wrong password = %v, want SQLSTATE 28P01", err)
		}
	}
}

func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig(pgtest.NewDatabase(t))
	cfg.StatementTimeout = 200 * time.Millisecond
	pool := openPool(t, cfg)

	_, err := pool.Exec(context.Background(), "SELECT pg_sleep(5)")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("long statement error = %v, want SQLSTATE 57014 (query_canceled)", err)
	}
	if pgdb.IsUnavailable(err) {
		t.Errorf("IsUnavailable(statement timeout) = true, want false")
	}
	// The connection is still usable afterwards.
	if err := pgdb.Ping(context.Background(), pool); err != nil {
		t.Errorf("Ping after a statement timeout: %v", err)
	}
}

func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	pool := openPool(t, testConfig(pgtest.NewDatabase(t)))
	ctx := context.Background()
	victim, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Release()
	var pid uint32
	if err := victim.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	var terminated bool
	if err := pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&terminated); err != nil || !terminated {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, terminated, err)
	}
	_, err = victim.Exec(ctx, "SELECT 1")
	if err == nil {
		t.Fatal("query on a terminated connection succeeded")
	}
	if !pgdb.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false, want true", err)
	}
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "57P02"}, true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{fmt.Errorf("load session: %w", &pgconn.PgError{Code: "08001"}), true},
		{&pgconn.PgError{Code: "57014"}, false},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.ConnectError{}, true},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
		{context.Canceled, false},
		{io.ErrUnexpectedEOF, true},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{pgconn.ErrConnClosed, true},
	}
	for _, tt := range tests {
		if got := pgdb.IsUnavailable(tt.err); got != tt.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestClosedPoolIsUnavailable(t *testing.T) {
	t.Parallel()
	pool, err := pgdb.Open(context.Background(), testConfig(pgtest.NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	if err := pgdb.Ping(context.Background(), pool); !pgdb.IsUnavailable(err) {
		t.Errorf("Ping on a closed pool = %v; IsUnavailable false, want true", err)
	}
}
