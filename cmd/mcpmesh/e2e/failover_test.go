package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKillEachReplicaBehindHAProxy runs two replicas of every service and of the
// everything provider on one PostgreSQL behind HAProxy (TCP for gRPC, as a ClusterIP
// Service balances; HTTP round robin for the gateways) and, while 200 sessions call a
// tool in a loop, SIGKILLs one replica of each in turn: registry, provider, session,
// transport, health, gateway. Of provider, session and transport it kills the replica
// that HAProxy pipes most of the load's own connections to (the sessions', the
// transports', the gateways'; read from HAProxy's stats socket and /proc just before
// the kill), and there must be one; of registry and health the one with more
// connections, of the gateways the one with more requests. A request may fail only if it was in flight when a replica died (started
// before the process was gone, not finished when the signal was sent); no request
// started afterwards may fail, and every session must still answer at the end. At the
// gateway kill, no more requests may fail than HAProxy had sent to the killed gateway
// and not yet seen answered (its current requests just before the signal plus those
// it sent to it until the process was gone).
func TestKillEachReplicaBehindHAProxy(t *testing.T) {
	const (
		sessions = 200
		interval = 3 * time.Second // load before, between and after the kills
	)
	m := startReplicatedWith(t, replicaOptions{haproxy: true})
	services := []string{"registry", "provider", "session", "transport", "health", "gateway"}
	// The tool calls of the load reach each of these services over the connections of
	// the replicas of another (and the gateways over HTTP, counted per request);
	// registry and health serve other callers (catalogue watches, heartbeats,
	// readiness), when they have any.
	loadClients := map[string][]string{
		"provider":  {"session-1", "session-2"},
		"session":   {"transport-1", "transport-2"},
		"transport": {"gateway-1", "gateway-2"},
	}
	// A kill is the interval from the signal to the process's exit: a request that
	// reached the replica before it died was in flight on it. onReplica is HAProxy's
	// count of what the replica had at the kill: connections (gRPC, mode tcp) or
	// requests (gateways, mode http).
	type kill struct {
		victim    string
		from, to  time.Time
		onReplica int
		requests  bool
	}
	var kills []kill
	ctx, c, all := m.underLoad(t, sessions, 90*time.Second, func() error {
		for _, service := range services {
			time.Sleep(interval)
			before, err := m.stats[service].servers()
			if err != nil {
				return fmt.Errorf("haproxy stats of %s: %w", service, err)
			}
			victim := service + "-1"
			if other := service + "-2"; before[other].current > before[victim].current {
				victim = other
			}
			cut := ""
			if clients := loadClients[service]; clients != nil {
				// The replica the load's own connections reach most, not only any client's.
				var err error
				if victim, cut, err = m.mostLoaded(service, clients); err != nil {
					return err
				}
			}
			from := time.Now()
			m.processes[victim].Kill()
			to := time.Now()
			after, err := m.stats[service].servers()
			if err != nil {
				return fmt.Errorf("haproxy stats of %s: %w", service, err)
			}
			k := kill{victim: victim, from: from, to: to, requests: service == "gateway",
				onReplica: before[victim].current}
			if k.requests {
				// Sent to it between the count and its death (and refused after it).
				k.onReplica += after[victim].total - before[victim].total
			}
			kills = append(kills, k)
			t.Logf("SIGKILLed %s (exited after %s; HAProxy counted %d current sessions on it%s)",
				victim, to.Sub(from).Round(time.Millisecond), before[victim].current, cut)
			if service == "gateway" && before[victim].current == 0 {
				return fmt.Errorf("HAProxy counted no request on %s before its kill: the kill tests nothing", victim)
			}
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
		on := fmt.Sprintf("%d connections on the replica", k.onReplica)
		if k.requests {
			on = fmt.Sprintf("at most %d on the replica", k.onReplica)
			if failedAt[i] > k.onReplica {
				t.Errorf("SIGKILL of %s: %d requests failed, more than the %d it had", k.victim, failedAt[i], k.onReplica)
			}
		}
		t.Logf("SIGKILL of %s: %d requests in flight in the mesh (%s), %d of them failed", k.victim, inFlightAt[i], on, failedAt[i])
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

// mostLoaded names the replica of service (service-1 or service-2) that HAProxy pipes
// most of clients' connections to, and says how many; it fails when neither has one.
func (m *replicatedMesh) mostLoaded(service string, clients []string) (victim, cut string, err error) {
	stats := m.stats[service]
	ports := map[int]bool{}
	for _, c := range clients {
		p, err := tcpPortsTo(m.processes[c].Pid(), stats.addr)
		if err != nil {
			return "", "", fmt.Errorf("connections of %s to %s: %w", c, service, err)
		}
		maps.Copy(ports, p)
	}
	bySrv, err := stats.sessionsOf(ports)
	if err != nil {
		return "", "", fmt.Errorf("haproxy sessions of %s: %w", service, err)
	}
	victim = service + "-1"
	if other := service + "-2"; bySrv[other] > bySrv[victim] {
		victim = other
	}
	if bySrv[victim] == 0 {
		return "", "", fmt.Errorf("none of the %d connections of %s to %s is piped to %s-1 or %s-2 (%v): a kill would test nothing",
			len(ports), strings.Join(clients, ", "), service, service, service, bySrv)
	}
	return victim, fmt.Sprintf(", %d of them from %s", bySrv[victim], strings.Join(clients, " and ")), nil
}
