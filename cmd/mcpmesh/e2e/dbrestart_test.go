package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// TestDatabaseRestartUnderLoad stops PostgreSQL (fast shutdown) under a light load of
// stateful sessions on the replicated layout and starts it again: the gateways' /readyz
// turns 503 during the outage and 200 after it, clients get clean errors in the
// meantime (an HTTP status with a JSON-RPC error and its message, within the request
// deadline), and the sessions created before the restart, as well as new ones, work
// afterwards.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	const sessions = 4
	db := pgtest.NewServer(t)
	m := startReplicatedWith(t, replicaOptions{databaseURL: db.URL()})
	c := loadClient(sessions)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before, err := openLoadSessions(ctx, c, m.lb.URL, sessions)
	if err != nil {
		t.Fatal(err)
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	var load sync.WaitGroup
	load.Go(func() { runLoad(loadCtx, c, m.lb.URL, before) })
	defer func() { stopLoad(); load.Wait() }()
	// Every session gets calls through before the outage.
	eventually.True(t, 20*time.Second, func() bool {
		return everySessionHas(before, func(o outcome) bool { return o.failure == "" })
	}, "every session has a successful call before the outage")

	rowsBefore := tableCounts(ctx, t, db.URL())
	stopped := time.Now()
	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	for i, g := range m.gateways {
		waitReadyz(t, g, http.StatusServiceUnavailable)
		t.Logf("gateway-%d not ready %s after PostgreSQL stopped", i+1, time.Since(stopped).Round(time.Millisecond))
	}

	t.Run("a new session during the outage gets a clean error", func(t *testing.T) {
		began := time.Now()
		_, err := openLoadSession(ctx, c, m.lb.URL)
		if err == nil {
			t.Fatal("initialize succeeded while PostgreSQL was down")
		}
		if !isCleanFailure(err.Error()) {
			t.Errorf("initialize during the outage: %v; want an HTTP status with a JSON-RPC error message", err)
		}
		if took := time.Since(began); took >= requestTimeout {
			t.Errorf("initialize during the outage took %s", took)
		}
		t.Logf("initialize during the outage: %v (after %s)", err, time.Since(began).Round(time.Millisecond))
	})
	// The load meets the outage: every session tries a call while it lasts.
	eventually.True(t, 20*time.Second, func() bool {
		return everySessionHas(before, func(o outcome) bool { return o.start.After(stopped) })
	}, "every session tries a call during the outage")

	restarted := time.Now()
	if err := db.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL was down %s", restarted.Sub(stopped).Round(time.Millisecond))
	for i, g := range m.gateways {
		waitReadyz(t, g, http.StatusOK)
		t.Logf("gateway-%d ready again %s after PostgreSQL started", i+1, time.Since(restarted).Round(time.Millisecond))
	}
	readyAgain := time.Now()
	// Nothing written before the outage is gone (and nothing was created during it).
	if rowsAfter := tableCounts(ctx, t, db.URL()); !mapsEqual(rowsBefore, rowsAfter) {
		t.Errorf("rows per table before the outage %v, after it %v", rowsBefore, rowsAfter)
	}
	// The load goes on after the outage: every session gets a call through again.
	eventually.True(t, 20*time.Second, func() bool {
		return everySessionHas(before, func(o outcome) bool { return o.failure == "" && o.start.After(readyAgain) })
	}, "every session has a successful call after the outage")
	stopLoad()
	load.Wait()

	r := summarise(before, readyAgain, 0)
	t.Logf("load of %d sessions (event: readiness back on both gateways): %s", sessions, r)
	for _, s := range before {
		for _, o := range s.snapshot() {
			if o.failure == "" {
				continue
			}
			if !isCleanFailure(o.failure) || o.end.Sub(o.start) >= requestTimeout {
				t.Errorf("unclean failure after %s: %s", o.end.Sub(o.start).Round(time.Millisecond), o.failure)
			}
		}
	}
	if r.failedAfterGrace != 0 {
		t.Errorf("%d requests started after readiness returned failed", r.failedAfterGrace)
	}

	t.Run("sessions from before the restart still work", func(t *testing.T) {
		for i, s := range before {
			if err := echo(ctx, c, m.lb.URL, s, 1_000_000+i); err != nil {
				t.Errorf("session %s: %v", s.id, err)
			}
		}
	})
	t.Run("new sessions work", func(t *testing.T) {
		after, err := openLoadSessions(ctx, c, m.lb.URL, 2)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range after {
			if err := echo(ctx, c, m.lb.URL, s, i); err != nil {
				t.Errorf("new session %s: %v", s.id, err)
			}
		}
	})
}

// isCleanFailure reports whether a recorded failure is an HTTP answer carrying a
// JSON-RPC error with a message, as opposed to no answer, a timeout or an unreadable
// body.
func isCleanFailure(msg string) bool {
	i := strings.Index(msg, "HTTP ")
	return i >= 0 && strings.Contains(msg[i:], ": JSON-RPC error ") && !strings.HasSuffix(msg, `""`)
}

// waitReadyz waits (bounded) until base/readyz answers status.
func waitReadyz(t *testing.T, base string, status int) {
	t.Helper()
	eventually.NoError(t, 20*time.Second, func() error {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != status {
			return fmt.Errorf("%s %s", resp.Status, strings.TrimSpace(string(body)))
		}
		return nil
	}, "%s/readyz answers %d", base, status)
}
