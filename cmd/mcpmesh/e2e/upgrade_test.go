package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// TestUpgradeAndRollbackUnderLoad runs release N-1 (previousRelease) and the binary
// under test side by side on one PostgreSQL, the way a rolling upgrade does, and
// counts the requests and sessions clients lose: none may be lost.
//
//  1. The binary under test migrates the database, and every service records one
//     more migration than either release knows, as the next release's first
//     migration would: both releases must run on a newer schema (expand/contract).
//  2. A mixed mesh starts behind HAProxy: replica 1 of registry, session, transport,
//     health and gateway, and the everything provider, run the previous release;
//     replica 2 runs the binary under test.
//  3. 100 sessions, opened before anything is upgraded, call a tool in a loop while
//     every previous-release process is replaced by the new release (the new one
//     started and ready first, then the old one stopped with SIGTERM, as a Deployment
//     with maxUnavailable 0 rolls), and then the session service is rolled back to the
//     previous release.
//  4. Not one request may fail, and every session still answers at the end.
func TestUpgradeAndRollbackUnderLoad(t *testing.T) {
	const (
		sessions = 100
		// futureMigration stands for the next release's first migration: newer than
		// every migration file either release embeds.
		futureMigration = 99_999
	)
	old := previousReleaseBinary(t)
	m := startReplicatedWith(t, replicaOptions{
		haproxy:  true,
		migrated: func(dsn string) { recordFutureMigration(t, dsn, futureMigration) },
		binaryOf: func(name string) string {
			if strings.HasSuffix(name, "-1") {
				return old
			}
			return ""
		},
	})
	c := loadClient(sessions)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	all, err := openLoadSessions(ctx, c, m.gatewayLB, sessions)
	if err != nil {
		t.Fatalf("open %d sessions: %v", sessions, err)
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var rollErr error
	wg.Go(func() {
		defer stopLoad()
		time.Sleep(2 * time.Second) // both releases serve the load
		// Upgrade the rest: the order of docs/operations/release.md (back to front).
		for _, service := range []string{"registry", "provider", "session", "transport", "health", "gateway"} {
			if rollErr = m.replace(t, service+"-1", service+"-3", binary); rollErr != nil {
				return
			}
		}
		time.Sleep(2 * time.Second) // only the new release serves the load
		// Roll one service back.
		if rollErr = m.replace(t, "session-3", "session-4", old); rollErr != nil {
			return
		}
		time.Sleep(2 * time.Second)
	})
	runLoad(loadCtx, c, m.gatewayLB, all)
	wg.Wait()
	if rollErr != nil {
		t.Fatal(rollErr)
	}
	requests, failures := 0, 0
	kinds := map[string]int{}
	for _, s := range all {
		for _, o := range s.snapshot() {
			requests++
			if o.failure != "" {
				failures++
				kinds[failureKind(o.failure)]++
				if failures <= 5 {
					t.Errorf("request %s–%s failed: %s", o.start.Format("15:04:05.000"), o.end.Format("15:04:05.000"), o.failure)
				}
			}
		}
	}
	t.Logf("%d requests during the upgrade and the rollback, %d failed %v", requests, failures, kinds)
	if requests < 4*sessions {
		t.Fatalf("only %d requests: the load did not run", requests)
	}
	if failures != 0 {
		t.Errorf("%d requests failed during the upgrade and the rollback; want 0", failures)
	}
	// Every session opened before the upgrade still answers.
	lost := 0
	for i, s := range all {
		if err := echo(ctx, c, m.gatewayLB, s, 1_000_000+i); err != nil {
			lost++
			if lost <= 5 {
				t.Errorf("session %s after the upgrade and the rollback: %v", s.id, err)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d sessions lost", lost, sessions)
	}
}

// recordFutureMigration records, for every service with migrations, an applied
// migration newer than any release knows, as a release after the binary under test
// would have applied it.
func recordFutureMigration(t *testing.T, dsn string, version int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, service := range []string{"registry", "session"} {
		q := fmt.Sprintf("INSERT INTO %s (version_id, is_applied) VALUES ($1, true)", pgx.Identifier{pgdb.VersionTable(service)}.Sanitize())
		if _, err := conn.Exec(ctx, q, version); err != nil {
			t.Fatalf("record migration %d of %s: %v", version, service, err)
		}
	}
}
