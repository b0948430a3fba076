package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// migrateTimeout bounds `mcpmesh migrate` before a PostgreSQL-backed layout.
const migrateTimeout = time.Minute

// cluster is what database needs of a PostgreSQL cluster it started
// (*pgtest.Cluster).
type cluster interface {
	URL() string
	PID() int
	Close() error
}

// database is the PostgreSQL server of the PostgreSQL-backed layouts: -database-url
// when given, else a throwaway cluster started on first use and removed by close.
type database struct {
	url string
	// startCluster starts the throwaway cluster (pgtest.StartCluster; replaced in tests).
	startCluster func() (cluster, error)
	cluster      cluster
}

func newDatabase(url string) *database {
	return &database{url: url, startCluster: func() (cluster, error) {
		c, err := pgtest.StartCluster()
		if err != nil {
			return nil, err // a nil *pgtest.Cluster must not become a non-nil cluster
		}
		return c, nil
	}}
}

// ensure returns the database URL, starting the throwaway cluster the first time when
// no -database-url was given.
func (d *database) ensure(progress io.Writer) (string, error) {
	if d.url != "" {
		return d.url, nil
	}
	fmt.Fprintf(progress, "bench: no -database-url: starting a throwaway PostgreSQL cluster\n")
	c, err := d.startCluster()
	if errors.Is(err, pgtest.ErrUnavailable) {
		return "", fmt.Errorf("the PostgreSQL-backed layouts need a database: %w; or pass -database-url=postgres://user:password@host:port/db", err)
	}
	if err != nil {
		return "", fmt.Errorf("throwaway PostgreSQL cluster: %w", err)
	}
	d.cluster, d.url = c, c.URL()
	return d.url, nil
}

// pid is the postmaster of the throwaway cluster, whose CPU (with its backends') the
// report shows as database CPU; 0 for a -database-url server, which may be remote.
func (d *database) pid() int {
	if d.cluster == nil {
		return 0
	}
	return d.cluster.PID()
}

// close stops and removes the throwaway cluster, if one was started.
func (d *database) close() error {
	if d.cluster == nil {
		return nil
	}
	err := d.cluster.Close()
	d.cluster, d.url = nil, ""
	return err
}

// migrate runs `mcpmesh migrate` against url, as a deployment does before starting
// the services.
func migrate(ctx context.Context, binary, url string) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "migrate")
	cmd.Env = append(cmd.Environ(), "MCPMESH_DATABASE_URL="+url)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mcpmesh migrate: %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// requestStateKey is a random key shared by the session replicas of one run, so that
// each accepts the requestState another one signed.
func requestStateKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
