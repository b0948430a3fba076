package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// underLoad opens sessions stateful sessions through the mesh's HAProxy in front of
// the gateways and has each call a tool in a loop while change runs; the load stops
// when change returns. It fails the test when change fails, and returns the sessions
// with their outcomes and the client and context to use them afterwards (ctx ends
// with the test).
func (m *replicatedMesh) underLoad(t *testing.T, sessions int, timeout time.Duration, change func() error) (context.Context, *http.Client, []*loadSession) {
	t.Helper()
	c := loadClient(sessions)
	t.Cleanup(c.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	all, err := openLoadSessions(ctx, c, m.gatewayLB, sessions)
	if err != nil {
		t.Fatalf("open %d sessions: %v", sessions, err)
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var changeErr error
	wg.Go(func() {
		defer stopLoad()
		changeErr = change()
	})
	runLoad(loadCtx, c, m.gatewayLB, all)
	wg.Wait()
	if changeErr != nil {
		t.Fatal(changeErr)
	}
	return ctx, c, all
}

// expectNoFailedRequest fails the test unless the load ran (four requests per session
// at least) and not one of its requests failed during what.
func expectNoFailedRequest(t *testing.T, all []*loadSession, what string) {
	t.Helper()
	requests, failures := 0, 0
	kinds := map[string]int{}
	for _, s := range all {
		for _, o := range s.snapshot() {
			requests++
			if o.failure == "" {
				continue
			}
			failures++
			kinds[failureKind(o.failure)]++
			if failures <= 5 {
				t.Errorf("request %s–%s failed: %s", o.start.Format("15:04:05.000"), o.end.Format("15:04:05.000"), o.failure)
			}
		}
	}
	t.Logf("%d requests during %s, %d failed %v", requests, what, failures, kinds)
	if requests < 4*len(all) {
		t.Fatalf("only %d requests: the load did not run", requests)
	}
	if failures != 0 {
		t.Errorf("%d requests failed during %s; want 0", failures, what)
	}
}

// expectSessionsAnswer fails the test unless every session still answers a tool call
// with its own id after what.
func expectSessionsAnswer(ctx context.Context, t *testing.T, c *http.Client, base string, all []*loadSession, what string) {
	t.Helper()
	lost := 0
	for i, s := range all {
		if err := echo(ctx, c, base, s, 1_000_000+i); err != nil {
			lost++
			if lost <= 5 {
				t.Errorf("session %s after %s: %v", s.id, what, err)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d sessions lost in %s", lost, len(all), what)
	}
}
