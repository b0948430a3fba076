package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKillEachReplicaBehindHAProxy runs two replicas of every service and of the
// everything provider on one PostgreSQL behind HAProxy (TCP for gRPC, as a ClusterIP
// Service balances; HTTP round robin for the gateways) and, while 200 sessions call a
// tool in a loop, SIGKILLs one replica of each in turn: registry, session,
// transport, health, gateway. A request may fail only if it was in flight when a
// replica died (started before the process was gone, not finished when the signal
// was sent); no request started afterwards may fail, and every session must still
// answer at the end.
func TestKillEachReplicaBehindHAProxy(t *testing.T) {
	const (
		sessions = 200
		interval = 3 * time.Second // load before, between and after the kills
	)
	m := startReplicatedWith(t, replicaOptions{haproxy: true})
	// Not the provider: killing one of its replicas can open the session's circuit
	// breaker for every replica at once (calls that fail fast while the connection
	// through the balancer reconnects count as consecutive failures), and calls then
	// fail for breaker.open_timeout. Open defect; see docs/operations/deployment.md.
	victims := []string{"registry-1", "session-1", "transport-1", "health-1", "gateway-1"}
	// A kill is the interval from the signal to the process's exit: a request that
	// reached the replica before it died was in flight on it.
	type kill struct {
		victim   string
		from, to time.Time
	}
	var kills []kill
	ctx, c, all := m.underLoad(t, sessions, 90*time.Second, func() error {
		for _, name := range victims {
			time.Sleep(interval)
			from := time.Now()
			m.processes[name].Kill()
			kills = append(kills, kill{name, from, time.Now()})
			t.Logf("SIGKILLed %s (exited after %s)", name, time.Since(from).Round(time.Millisecond))
		}
		time.Sleep(interval)
		return nil
	})

	requests, failures, inFlight, unexplained := 0, 0, 0, 0
	kinds := map[string]int{}
	inFlightAt, failedAt := make([]int, len(kills)), make([]int, len(kills))
	for _, s := range all {
		for _, o := range s.snapshot() {
			requests++
			explained := false
			for i, k := range kills {
				// Started before the process was gone, not finished when the signal went.
				if !o.start.After(k.to) && !o.end.Before(k.from) {
					inFlight++
					inFlightAt[i]++
					if o.failure != "" {
						failedAt[i]++
						explained = true
					}
				}
			}
			if o.failure == "" {
				continue
			}
			failures++
			kinds[failureKind(o.failure)]++
			if !explained {
				unexplained++
				if unexplained <= 5 {
					t.Errorf("request %s–%s failed with no replica dying during it: %s",
						o.start.Format("15:04:05.000"), o.end.Format("15:04:05.000"), o.failure)
				}
			}
		}
	}
	for i, k := range kills {
		t.Logf("SIGKILL of %s: %d requests in flight, %d of them failed", k.victim, inFlightAt[i], failedAt[i])
	}
	t.Logf("%d requests, %d failed (%v), %d in flight at the kills", requests, failures, kinds, inFlight)
	if requests < 4*sessions {
		t.Fatalf("only %d requests: the load did not run", requests)
	}
	if unexplained > 0 {
		t.Errorf("%d failed requests were not in flight at a kill", unexplained)
	}
	if failures > inFlight {
		t.Errorf("%d failures, more than the %d requests in flight at the kills", failures, inFlight)
	}
	expectSessionsAnswer(ctx, t, c, m.gatewayLB, all, "the kills")
}

// TestRollingRestartBehindHAProxy replaces one replica of session, transport and
// gateway in turn under load, the way the chart's Deployments roll (maxUnavailable 0):
// the new process starts on a spare backend of HAProxy and is ready, then the old one
// gets SIGTERM and drains (readiness off for the drain delay, then a graceful stop).
// Not one request may fail.
func TestRollingRestartBehindHAProxy(t *testing.T) {
	const sessions = 200
	m := startReplicatedWith(t, replicaOptions{haproxy: true})
	_, _, all := m.underLoad(t, sessions, 90*time.Second, func() error {
		time.Sleep(2 * time.Second)
		for _, service := range []string{"session", "transport", "gateway"} {
			if err := m.roll(t, service); err != nil {
				return err
			}
		}
		time.Sleep(2 * time.Second)
		return nil
	})
	expectNoFailedRequest(t, all, "the rolling restart")
}

// roll starts service-3 on a spare backend of HAProxy with service-1's environment,
// arguments and binary, waits until it is ready and HAProxy has seen it, then stops
// service-1 with SIGTERM and waits for its graceful exit.
func (m *replicatedMesh) roll(t *testing.T, service string) error {
	return m.replace(t, service+"-1", service+"-3", m.started[service+"-1"].binary)
}

// replace starts newName on the next spare address of old's service with old's
// environment and arguments and the binary bin, waits until it is ready and HAProxy
// has seen it (two checks at 200 ms, or one a second), then stops old with SIGTERM and
// waits for its graceful exit, and gives old's address back to the spares.
func (m *replicatedMesh) replace(t *testing.T, old, newName, bin string) error {
	service, _, _ := strings.Cut(old, "-")
	if len(m.spares[service]) == 0 {
		return fmt.Errorf("replace %s: no spare address left", old)
	}
	addr := m.spares[service][0]
	m.spares[service] = m.spares[service][1:]
	was := m.started[old]
	args := slices.Clone(was.args)
	freed := ""
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "-grpc.listen="):
			args[i], freed = "-grpc.listen="+addr, m.processes[old].GRPC
		case strings.HasPrefix(a, "-gateway.listen="):
			args[i], freed = "-gateway.listen="+addr, strings.TrimPrefix(m.processes[old].HTTP, "http://")
		}
	}
	p := startBinary(t, bin, newName, was.env, args...)
	m.processes[newName] = p
	m.started[newName] = startedWith{env: was.env, args: args, binary: bin}
	if p.HTTP != "" {
		waitReady(t, p.HTTP)
	}
	time.Sleep(1500 * time.Millisecond)
	start := time.Now()
	t.Logf("%s: stopping %s", start.Format("15:04:05.000"), old)
	if err := m.processes[old].Stop(30 * time.Second); err != nil {
		return fmt.Errorf("stop %s: %w", old, err)
	}
	m.spares[service] = append(m.spares[service], freed)
	t.Logf("replaced %s by %s: %s stopped gracefully in %s", old, newName, old, time.Since(start).Round(time.Millisecond))
	return nil
}
