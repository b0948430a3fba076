package pgtest

import (
	"os"
	"testing"
)

// Environment variables read by DSN.
const (
	// EnvDatabaseURL names an existing server to use instead of starting one; its user
	// must be allowed to create and drop databases.
	EnvDatabaseURL = "MCPMESH_TEST_DATABASE_URL"
	// EnvCI, when set, turns "PostgreSQL is not available" from a skip into a failure.
	EnvCI = "MCPMESH_CI"
)

// DSN returns the URL of a throwaway PostgreSQL server (its "postgres" database):
// $MCPMESH_TEST_DATABASE_URL when set, else a cluster this test binary starts once. When
// neither is possible it skips t, or fails it when $MCPMESH_CI is set. Tests should
// normally use NewDatabase rather than the server's own database.
func DSN(t testing.TB) string {
	t.Helper()
	if !mainRunning.Load() {
		t.Fatal("pgtest: wrap TestMain with pgtest.Main(m) so the PostgreSQL server this binary starts is stopped at exit")
	}
	if url := os.Getenv(EnvDatabaseURL); url != "" {
		return url
	}
	url, unavailable, err := local.ensure()
	if err != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", err)
	}
	if unavailable != "" {
		msg := "pgtest: PostgreSQL not available (" + unavailable + "); install it (apt-get install -y postgresql) or set " +
			EnvDatabaseURL + "=postgres://user:password@host:port/postgres?sslmode=disable"
		if os.Getenv(EnvCI) != "" {
			t.Fatal(msg + " [" + EnvCI + " is set, so this is a failure]")
		}
		t.Skip(msg)
	}
	return url
}
