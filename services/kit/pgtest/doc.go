// Package pgtest gives tests a throwaway PostgreSQL server and a fresh database per test.
//
// The server is $MCPMESH_TEST_DATABASE_URL when set; otherwise the test binary starts its
// own cluster once, lazily, from the binaries in /usr/lib/postgresql/*/bin (initdb as the
// postgres OS user when running as root, a free 127.0.0.1 port, fsync off, the unix socket
// in its temp dir). Without either, tests skip with a message saying how to enable them —
// or fail when $MCPMESH_CI is set.
//
// Every package using it wraps TestMain, which also runs goleak:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//	// or with goleak options: pgtest.Main(m, goleak.IgnoreTopFunction("..."))
//
// and asks for a database per test:
//
//	url := pgtest.NewDatabase(t) // dropped WITH (FORCE) at t.Cleanup
//
// A test that must stop and restart PostgreSQL (outages, backup drills) starts a
// dedicated cluster instead, removed at t.Cleanup:
//
//	srv := pgtest.NewServer(t) // srv.URL(), srv.Stop() (fast shutdown), srv.Start(), srv.Tool("pg_dump")
package pgtest
