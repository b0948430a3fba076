package e2e

import (
	"context"
	"fmt"
	"strings"
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
//  2. A mixed mesh starts behind HAProxy: replica 1 of registry, everything provider,
//     session, transport, health and gateway runs the previous release, replica 2 the
//     binary under test.
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
	ctx, c, all := m.underLoad(t, sessions, 150*time.Second, func() error {
		time.Sleep(2 * time.Second) // both releases serve the load
		// Upgrade the rest, back to front as docs/operations/deployment.md orders it.
		for _, service := range []string{"registry", "provider", "session", "transport", "health", "gateway"} {
			if err := m.replace(t, service+"-1", service+"-3", binary); err != nil {
				return err
			}
		}
		time.Sleep(2 * time.Second) // only the new release serves the load
		// Roll one service back.
		if err := m.replace(t, "session-3", "session-4", old); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		return nil
	})
	expectNoFailedRequest(t, all, "the upgrade and the rollback")
	// Every session opened before the upgrade still answers.
	expectSessionsAnswer(ctx, t, c, m.gatewayLB, all, "the upgrade and the rollback")
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
