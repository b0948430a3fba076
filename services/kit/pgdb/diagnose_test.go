package pgdb_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// Each way a database URL can be wrong gets its own problem and one line that says
// what to do, against a real server (the throwaway cluster has password auth on TCP
// and no TLS).
func TestCheckConnectionNamesTheProblem(t *testing.T) {
	t.Parallel()
	good := pgtest.NewDatabase(t)
	with := func(change func(u *url.URL)) string {
		u, err := url.Parse(good)
		if err != nil {
			t.Skipf("needs a URL-form DSN: %v", err)
		}
		change(u)
		return u.String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()

	tests := []struct {
		name        string
		url         string
		want        pgdb.Problem
		wantMessage []string
		notMessage  []string
	}{
		{"reachable", good, pgdb.ProblemNone, nil, nil},
		{"database missing", with(func(u *url.URL) { u.Path = "/no_such_db" }), pgdb.ProblemDatabaseMissing,
			[]string{`database "no_such_db" does not exist`, "createdb no_such_db"}, nil},
		{"wrong password", with(func(u *url.URL) { u.User = url.UserPassword(u.User.Username(), "wrong-secret") }), pgdb.ProblemCredentials,
			[]string{"password authentication failed", "database.password_file"}, []string{"wrong-secret"}},
		{"TLS demanded, server has none", with(func(u *url.URL) { u.RawQuery = "sslmode=require" }), pgdb.ProblemTLSRefused,
			[]string{"does not offer TLS", "sslmode=require", "sslmode=disable"}, nil},
		{"nothing listening", "postgres://mesh:pw@" + closed + "/mesh?sslmode=disable", pgdb.ProblemUnreachable,
			[]string{"connection refused at " + closed, "is PostgreSQL running"}, []string{"pw@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(tt.url)
			cfg.ConnectTimeout = 3 * time.Second
			pool, err := pgdb.Open(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer pool.Close()
			err = pgdb.CheckConnection(context.Background(), pool, cfg)
			var connErr *pgdb.ConnectionError
			switch {
			case tt.want == pgdb.ProblemNone:
				if err != nil {
					t.Fatalf("CheckConnection = %v, want nil", err)
				}
				return
			case !errors.As(err, &connErr):
				t.Fatalf("CheckConnection = %v (%T), want a *ConnectionError", err, err)
			}
			if connErr.Problem != tt.want {
				t.Errorf("problem = %v, want %v (%s)", connErr.Problem, tt.want, connErr.Message)
			}
			if connErr.Problem.NeedsOperator() == (tt.want == pgdb.ProblemUnreachable) {
				t.Errorf("NeedsOperator = %v for %v", connErr.Problem.NeedsOperator(), tt.want)
			}
			for _, want := range tt.wantMessage {
				if !strings.Contains(connErr.Message, want) {
					t.Errorf("message %q lacks %q", connErr.Message, want)
				}
			}
			for _, not := range tt.notMessage {
				if strings.Contains(connErr.Message, not) {
					t.Errorf("message %q contains %q", connErr.Message, not)
				}
			}
		})
	}
}

func TestDiagnoseWithoutServer(t *testing.T) {
	t.Parallel()
	cfg := pgdb.Config{URL: "postgres://app@db.internal:5432/mesh"}
	tests := []struct {
		name string
		err  error
		want pgdb.Problem
		msg  string
	}{
		{"unknown role", &pgconn.PgError{Code: "28000", Message: `role "app" does not exist`}, pgdb.ProblemCredentials, `the server rejected user "app"`},
		{"deadline", fmt.Errorf("ping database: %w", context.DeadlineExceeded), pgdb.ProblemUnreachable, "no answer from db.internal:5432"},
		{"other server error", &pgconn.PgError{Code: "42601", Message: "syntax error"}, pgdb.ProblemOther, "syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := pgdb.Diagnose(tt.err, cfg)
			if got != tt.want || !strings.Contains(msg, tt.msg) {
				t.Errorf("Diagnose = %v, %q; want %v, containing %q", got, msg, tt.want, tt.msg)
			}
		})
	}
}

// CheckSchema tells a database without the tables (or with old ones) from a current
// one, and changes nothing.
func TestCheckSchema(t *testing.T) {
	t.Parallel()
	pool := openPool(t, testConfig(pgtest.NewDatabase(t)))
	ctx := context.Background()
	migrations := widgetMigrations()
	older := widgetMigrations()
	delete(older, "00002_seed.sql")

	steps := []struct {
		name        string
		fs          string // "older" or "all": migrate with these first
		wantCurrent int64
		wantBehind  bool
	}{
		{name: "empty database", wantBehind: true, wantCurrent: 0},
		{name: "one of two applied", fs: "older", wantBehind: true, wantCurrent: 1},
		{name: "current", fs: "all", wantBehind: false},
	}
	for _, step := range steps {
		switch step.fs {
		case "older":
			if err := pgdb.Migrate(ctx, pool, "widgets", older, nil); err != nil {
				t.Fatal(err)
			}
		case "all":
			if err := pgdb.Migrate(ctx, pool, "widgets", migrations, nil); err != nil {
				t.Fatal(err)
			}
		}
		err := pgdb.CheckSchema(ctx, pool, "widgets", migrations)
		var schemaErr *pgdb.SchemaError
		if got := errors.As(err, &schemaErr); got != step.wantBehind {
			t.Fatalf("%s: CheckSchema = %v, want behind %v", step.name, err, step.wantBehind)
		}
		if !step.wantBehind {
			continue
		}
		if !errors.Is(err, pgdb.ErrSchemaBehind) || schemaErr.Current != step.wantCurrent || schemaErr.Want != 2 {
			t.Errorf("%s: %+v, want current %d of 2", step.name, schemaErr, step.wantCurrent)
		}
		for _, want := range []string{"widgets tables", "mcpmesh migrate", "database.migrate_on_start"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", step.name, err, want)
			}
		}
	}
	// The check created nothing: an empty database stays empty.
	empty := openPool(t, testConfig(pgtest.NewDatabase(t)))
	_ = pgdb.CheckSchema(ctx, empty, "widgets", migrations)
	var tables int
	if err := empty.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil || tables != 0 {
		t.Errorf("after CheckSchema the empty database has %d tables (err %v)", tables, err)
	}
}
