package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestKillReplicasUnderLoad SIGKILLs one session replica and one transport replica
// while 200 stateful sessions call a tool in a loop through the round-robin balancer.
// Every transport reaches both session replicas, and every gateway both transports,
// through a layer-4 balancer (as a Kubernetes Service would), so one replica of each
// may die. Sessions live in PostgreSQL: none may be lost, only requests in flight on
// the killed processes may fail, and from 2 s after the kill nothing may fail.
func TestKillReplicasUnderLoad(t *testing.T) {
	const (
		sessions = 200
		steady   = 3 * time.Second // load before the kill
		after    = 6 * time.Second // load after the kill
		grace    = 2 * time.Second // failures allowed only in this window after the kill
	)
	m := startReplicatedWith(t, replicaOptions{crossWired: true})
	c := loadClient(sessions)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all, err := openLoadSessions(ctx, c, m.lb.URL, sessions)
	if err != nil {
		t.Fatalf("open %d sessions: %v", sessions, err)
	}

	killAt := make(chan time.Time, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(steady)
		// Kill the replicas that carry traffic now: the ones with the most connections
		// through the balancers.
		session := busiest(m.sessionLB.connections())
		transport := busiest(m.transportLB.connections())
		t.Logf("before the kill: connections to session replicas %v, to transport replicas %v", m.sessionLB.connections(), m.transportLB.connections())
		now := time.Now()
		killAt <- now
		var kills sync.WaitGroup
		for _, name := range []string{"session-" + session, "transport-" + transport} {
			kills.Go(func() { m.processes[name].Kill() })
		}
		kills.Wait()
		t.Logf("SIGKILLed session-%s and transport-%s in %s", session, transport, time.Since(now).Round(time.Millisecond))
	})
	loadStart := time.Now()
	loadCtx, stopLoad := context.WithDeadline(ctx, loadStart.Add(steady+after))
	defer stopLoad()
	runLoad(loadCtx, c, m.lb.URL, all)
	wg.Wait()
	killed := <-killAt

	r := summarise(all, killed, grace)
	t.Logf("%d sessions over %s: %s", sessions, time.Since(loadStart).Round(time.Millisecond), r)
	if !r.lastFailureEnd.IsZero() {
		t.Logf("last failure ended %s after the kill", r.lastFailureEnd.Sub(killed).Round(time.Millisecond))
	}
	t.Logf("after the kill: connections to session replicas %v, to transport replicas %v", m.sessionLB.connections(), m.transportLB.connections())
	if r.requests < 2*sessions {
		t.Fatalf("only %d requests: the load did not run", r.requests)
	}
	if r.failedBefore != 0 {
		t.Errorf("%d requests failed before the kill", r.failedBefore)
	}
	if r.failedAfterGrace != 0 {
		t.Errorf("%d requests started %s or more after the kill failed; want 0", r.failedAfterGrace, grace)
	}
	if r.sessionsWithoutLater != 0 {
		t.Errorf("%d sessions had no successful call from %s after the kill on: lost", r.sessionsWithoutLater, grace)
	}
	// Every session still answers, with its own id, once the load is over.
	lost := 0
	for i, s := range all {
		if err := echo(ctx, c, m.lb.URL, s, 1_000_000+i); err != nil {
			lost++
			if lost <= 5 {
				t.Errorf("session %s after the kill: %v", s.id, err)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d sessions lost", lost, sessions)
	}
}

// busiest returns the 1-based replica number with the most connections.
func busiest(conns []int) string {
	i := slices.Index(conns, slices.Max(conns))
	return string(rune('1' + i))
}
