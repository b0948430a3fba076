package e2e

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestKillEachReplicaBehindHAProxy runs two replicas of every service on one
// PostgreSQL behind HAProxy (TCP for gRPC, as a ClusterIP Service balances; HTTP round
// robin for the gateways) and, while 200 sessions call a tool in a loop, SIGKILLs one
// session replica, then one transport replica, then one gateway replica. A request may
// fail only if it was in flight when a replica died; no request started afterwards may
// fail, and every session must still answer at the end.
func TestKillEachReplicaBehindHAProxy(t *testing.T) {
	const (
		sessions = 200
		interval = 3 * time.Second // load before, between and after the kills
	)
	m := startReplicatedWith(t, replicaOptions{haproxy: true})
	c := loadClient(sessions)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	all, err := openLoadSessions(ctx, c, m.gatewayLB, sessions)
	if err != nil {
		t.Fatalf("open %d sessions: %v", sessions, err)
	}
	victims := []string{"session-1", "transport-1", "gateway-1"}
	var kills []time.Time
	var wg sync.WaitGroup
	loadCtx, stopLoad := context.WithCancel(ctx)
	wg.Go(func() {
		defer stopLoad()
		for _, name := range victims {
			time.Sleep(interval)
			kills = append(kills, time.Now())
			m.processes[name].Kill()
			t.Logf("SIGKILLed %s", name)
		}
		time.Sleep(interval)
	})
	runLoad(loadCtx, c, m.gatewayLB, all)
	wg.Wait()

	requests, failures, inFlight, unexplained := 0, 0, 0, 0
	kinds := map[string]int{}
	for _, s := range all {
		for _, o := range s.snapshot() {
			requests++
			for _, k := range kills {
				if !o.start.After(k) && !o.end.Before(k) {
					inFlight++
				}
			}
			if o.failure == "" {
				continue
			}
			failures++
			kinds[failureKind(o.failure)]++
			explained := false
			for _, k := range kills {
				explained = explained || (!o.start.After(k) && !o.end.Before(k))
			}
			if !explained {
				unexplained++
				if unexplained <= 5 {
					t.Errorf("request %s–%s failed with no replica dying during it: %s",
						o.start.Format("15:04:05.000"), o.end.Format("15:04:05.000"), o.failure)
				}
			}
		}
	}
	t.Logf("%d requests, %d failed (%v), %d in flight at the three kills", requests, failures, kinds, inFlight)
	if requests < 4*sessions {
		t.Fatalf("only %d requests: the load did not run", requests)
	}
	if unexplained > 0 {
		t.Errorf("%d failed requests were not in flight at a kill", unexplained)
	}
	if failures > inFlight {
		t.Errorf("%d failures, more than the %d requests in flight at the kills", failures, inFlight)
	}
	lost := 0
	for i, s := range all {
		if err := echo(ctx, c, m.gatewayLB, s, 1_000_000+i); err != nil {
			lost++
			if lost <= 5 {
				t.Errorf("session %s after the kills: %v", s.id, err)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d sessions lost", lost, sessions)
	}
}
