package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Server is a PostgreSQL cluster of one test, which the test can stop and start again
// on the same port and data directory: for outage and restart tests, and for backup
// drills that need the server's pg_dump and pg_restore. Unlike DSN's shared server it
// ignores $MCPMESH_TEST_DATABASE_URL, because a test cannot restart a server it does
// not own.
type Server struct {
	mu sync.Mutex
	c  *cluster
}

// NewServer initialises and starts a dedicated cluster, stopped (immediate shutdown)
// and removed at t.Cleanup. Without PostgreSQL binaries it skips t, or fails it when
// $MCPMESH_CI is set.
func NewServer(t testing.TB) *Server {
	t.Helper()
	c, unavailable, err := newCluster()
	if unavailable == "" && err == nil {
		for attempt := 1; ; attempt++ {
			if err = c.run(0); err == nil || attempt == startAttempts || !isPortInUse(err) {
				break
			}
		}
	}
	s := &Server{c: c}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := c.halt(syscall.SIGQUIT); err != nil {
			t.Errorf("pgtest: stop dedicated PostgreSQL: %v", err)
		}
		if err := c.remove(); err != nil {
			t.Errorf("pgtest: remove dedicated PostgreSQL: %v", err)
		}
	})
	if unavailable != "" {
		msg := "pgtest: PostgreSQL not available for a dedicated server (" + unavailable + "); install it (apt-get install -y postgresql)"
		if os.Getenv(EnvCI) != "" {
			t.Fatal(msg + " [" + EnvCI + " is set, so this is a failure]")
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatalf("pgtest: start dedicated PostgreSQL: %v", err)
	}
	return s
}

// URL is the superuser URL of the server's "postgres" database. It stays valid across
// Stop and Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.url()
}

// DatabaseURL is URL pointing at database name instead.
func (s *Server) DatabaseURL(name string) string { return withDatabase(s.URL(), name) }

// Stop shuts the server down in "fast" mode (SIGINT: clients are disconnected, open
// transactions rolled back, a checkpoint written) and waits for it to exit. Data
// committed before Stop survives a later Start. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.c.halt(syscall.SIGINT); err != nil {
		return fmt.Errorf("pgtest: stop: %w", err)
	}
	return nil
}

// Start starts a stopped server again on the same port and data directory and waits
// until it accepts connections. It fails if the port was taken meanwhile.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c.cmd != nil {
		return nil
	}
	if err := s.c.run(s.c.port); err != nil {
		return fmt.Errorf("pgtest: start again on port %d: %w", s.c.port, err)
	}
	return nil
}

// Tool returns the path of a PostgreSQL client program of the server's version, such
// as "pg_dump", "pg_restore" or "psql".
func (s *Server) Tool(name string) string { return filepath.Join(s.c.binDir, name) }
