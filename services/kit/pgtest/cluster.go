package pgtest

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
)

// ErrUnavailable is returned by StartCluster when PostgreSQL cannot run on this
// machine: no server binaries, or running as root without a postgres OS user.
var ErrUnavailable = errors.New("PostgreSQL not available")

// Cluster is a throwaway PostgreSQL cluster for a program that is not a test (the
// load generator, tools/bench), with the settings of the test server: a fresh data
// directory in a locked temp dir, a free 127.0.0.1 port, fsync and synchronous commit
// off, the server run as the postgres OS user when the caller is root. The server is a
// child of the calling process and gets SIGQUIT if that process dies, so nothing is
// left running; its directory is then removed by the next cluster started here.
type Cluster struct {
	mu sync.Mutex
	c  *cluster
}

// StartCluster initialises and starts a cluster and waits until it accepts
// connections. The error wraps ErrUnavailable, with the reason and how to install
// PostgreSQL, when it cannot run here. Close it when done.
func StartCluster() (*Cluster, error) {
	c, unavailable, err := newCluster()
	if unavailable != "" {
		_ = c.remove()
		return nil, fmt.Errorf("%w: %s; install it (apt-get install -y postgresql)", ErrUnavailable, unavailable)
	}
	if err == nil {
		for attempt := 1; ; attempt++ {
			if err = c.run(0); err == nil || attempt == startAttempts || !isPortInUse(err) {
				break
			}
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("pgtest: start PostgreSQL: %w", err), c.halt(syscall.SIGQUIT), c.remove())
	}
	return &Cluster{c: c}, nil
}

// URL is the superuser URL of the cluster's "postgres" database.
func (c *Cluster) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c.url()
}

// DatabaseURL is URL pointing at database name instead.
func (c *Cluster) DatabaseURL(name string) string { return withDatabase(c.URL(), name) }

// PID is the process id of the postmaster (its backends are its children), or 0 once
// the cluster is closed.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c.cmd == nil {
		return 0
	}
	return c.c.cmd.Process.Pid
}

// Close shuts the server down immediately and removes its files. Closing a closed
// cluster does nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := errors.Join(c.c.halt(syscall.SIGQUIT), c.c.remove()); err != nil {
		return fmt.Errorf("pgtest: close cluster: %w", err)
	}
	return nil
}
