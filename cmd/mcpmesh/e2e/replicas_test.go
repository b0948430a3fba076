package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// replicatedMesh runs two replicas each of registry, session, transport and gateway
// over one PostgreSQL database, plus the everything provider and the health service
// (two replicas of each in haproxy layouts), behind a round-robin HTTP load balancer
// with no session affinity.
type replicatedMesh struct {
	lb       *httptest.Server
	gateways []string
	hits     []atomic.Int64
	// processes by name: registry-1, session-2, transport-1, gateway-2, provider-1,
	// health-1.
	processes map[string]*proc.Process
	// sessionLB and transportLB are the layer-4 balancers of a cross-wired layout (nil
	// otherwise): every transport reaches the sessions, and every gateway the
	// transports, through them.
	sessionLB, transportLB *tcpBalancer
	// gatewayLB is the HAProxy in front of the gateways (haproxy layouts only).
	gatewayLB string
	// stats are the stats sockets of the HAProxies, by service (haproxy layouts only).
	stats map[string]haproxyStats
	// spares are, per service, the backends of its HAProxy no process listens on yet
	// (haproxy layouts only), taken by replacement replicas in turn; a replaced
	// replica's address goes back to them. started keeps each process's environment,
	// arguments and binary to start its replacement the same way.
	spares  map[string][]string
	started map[string]startedWith
}

type startedWith struct {
	env, args []string
	binary    string
}

// replicaOptions vary the replicated layout.
type replicaOptions struct {
	// databaseURL is the database to use; empty: a fresh one from pgtest.NewDatabase.
	databaseURL string
	// crossWired puts a tcpBalancer in front of the session replicas and one in front of
	// the transport replicas, so that losing one replica of either leaves every gateway
	// a working chain. Without it, gateway i talks to transport i, which talks to
	// session i.
	crossWired bool
	// haproxy cross-wires through HAProxy instead: TCP in front of the registry,
	// provider, session, transport and health replicas (two of each), HTTP round
	// robin in front of the gateways (gatewayLB).
	haproxy bool
	// env is added to the environment of every process that uses the database.
	env []string
	// migrated runs after the migration, before any process starts.
	migrated func(databaseURL string)
	// binaryOf names the binary of each process (registry-1, provider-1, …); nil or
	// "": the binary under test.
	binaryOf func(name string) string
}

// sparesPerService is how many replacement backends HAProxy knows per service: enough
// to replace every first replica (upgrade) and then one again (rollback).
const sparesPerService = 2

func startReplicated(t *testing.T) *replicatedMesh {
	t.Helper()
	return startReplicatedWith(t, replicaOptions{})
}

func startReplicatedWith(t *testing.T, o replicaOptions) *replicatedMesh {
	t.Helper()
	dsn := o.databaseURL
	if dsn == "" {
		dsn = pgtest.NewDatabase(t)
	}
	env := []string{"MCPMESH_DATABASE_URL=" + dsn, "MCPMESH_REGISTRY_REFRESH_INTERVAL=100ms",
		// Every session replica must accept the requestState another one signed.
		"MCPMESH_SESSION_REQUEST_STATE_KEY=" + strings.Repeat("replicated-mesh-test-key-", 2)}
	env = append(env, o.env...)
	// The binary under test migrates, also in a mixed-version mesh: migrations run
	// before the new release's replicas start, and the old release runs on the
	// expanded schema.
	migrate := exec.Command(binary, "migrate")
	migrate.Env = append(migrate.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("mcpmesh migrate: %v\n%s", err, out)
	}
	if o.migrated != nil {
		o.migrated(dsn)
	}
	m := &replicatedMesh{hits: make([]atomic.Int64, 2), processes: map[string]*proc.Process{}}
	m.started = map[string]startedWith{}
	if o.haproxy {
		m.spares = map[string][]string{}
		m.stats = map[string]haproxyStats{}
		for _, s := range []string{"registry", "session", "transport", "health", "gateway", "provider"} {
			for range sparesPerService {
				m.spares[s] = append(m.spares[s], reservedAddr(t))
			}
		}
	}
	run := func(name string, env []string, args ...string) *proc.Process {
		if o.haproxy {
			// Readiness off, with the listener open, for longer than HAProxy needs to see
			// it (three checks a second apart for gateways).
			env = append(slices.Clone(env), "MCPMESH_GRPC_DRAIN_DELAY=1s", "MCPMESH_GATEWAY_DRAIN_DELAY=4s")
		}
		bin := binary
		if o.binaryOf != nil && o.binaryOf(name) != "" {
			bin = o.binaryOf(name)
		}
		p := startBinary(t, bin, name, env, args...)
		m.processes[name] = p
		m.started[name] = startedWith{env: env, args: args, binary: bin}
		return p
	}
	// behind puts HAProxy (TCP) in front of the replicas of service and their spares,
	// in haproxy layouts, and returns the peer address each client of replica i uses.
	behind := func(service string, replicas ...*proc.Process) []string {
		peers := make([]string, len(replicas))
		for i, r := range replicas {
			peers[i] = r.GRPC
		}
		if !o.haproxy {
			return peers
		}
		lb, stats := startHAProxy(t, service, "tcp", append(slices.Clone(peers), m.spares[service]...)...)
		m.stats[service] = stats
		for i := range peers {
			peers[i] = lb
		}
		return peers
	}
	const anyPort = "-grpc.listen=127.0.0.1:0"
	reg1 := run("registry-1", env, "-target=registry", anyPort)
	reg2 := run("registry-2", env, "-target=registry", anyPort)
	registryPeer := behind("registry", reg1, reg2)
	if o.haproxy {
		// Two provider replicas behind HAProxy register the balancer's address under
		// one name, as the replicas of a Deployment register their Service. The registry
		// keeps one lease per name: the latest registration's. A replica whose lease was
		// taken over registers again at its next heartbeat (a third of the lease), and
		// a replica that stops gracefully deregisters only its own lease; a lease
		// longer than the test keeps those heartbeats out of it.
		replicas := []string{reservedAddr(t), reservedAddr(t)}
		lb, stats := startHAProxy(t, "provider", "tcp", append(slices.Clone(replicas), m.spares["provider"]...)...)
		m.stats["provider"] = stats
		for i, addr := range replicas {
			run(fmt.Sprintf("provider-%d", i+1), []string{"MCPMESH_PROVIDER_LEASE=5m"}, "-target=provider-everything",
				"-grpc.listen="+addr, "-peers.registry="+registryPeer[i], "-provider.advertise="+lb)
		}
	} else {
		run("provider-1", nil, "-target=provider-everything", anyPort, "-peers.registry="+registryPeer[0])
	}
	s1 := run("session-1", env, "-target=session", anyPort, "-peers.registry="+registryPeer[0])
	s2 := run("session-2", env, "-target=session", anyPort, "-peers.registry="+registryPeer[1])
	sessionPeer := behind("session", s1, s2)
	if o.crossWired {
		m.sessionLB = newTCPBalancer(t, s1.GRPC, s2.GRPC)
		sessionPeer = []string{m.sessionLB.addr(), m.sessionLB.addr()}
	}
	t1 := run("transport-1", nil, "-target=transport", anyPort, "-peers.session="+sessionPeer[0])
	t2 := run("transport-2", nil, "-target=transport", anyPort, "-peers.session="+sessionPeer[1])
	transportPeer := behind("transport", t1, t2)
	if o.crossWired {
		m.transportLB = newTCPBalancer(t, t1.GRPC, t2.GRPC)
		transportPeer = []string{m.transportLB.addr(), m.transportLB.addr()}
	}
	health := func(name string, i int) *proc.Process {
		return run(name, nil, "-target=health", anyPort, "-peers.registry="+registryPeer[i],
			"-peers.transport="+transportPeer[i], "-peers.session="+sessionPeer[i])
	}
	healthPeer := []string{health("health-1", 0).GRPC}
	healthPeer = append(healthPeer, healthPeer[0])
	if o.haproxy {
		healthPeer = behind("health", m.processes["health-1"], health("health-2", 1))
	}
	g1 := run("gateway-1", nil, "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+transportPeer[0], "-peers.registry="+registryPeer[0], "-peers.session="+sessionPeer[0], "-peers.health="+healthPeer[0])
	g2 := run("gateway-2", nil, "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+transportPeer[1], "-peers.registry="+registryPeer[1], "-peers.session="+sessionPeer[1], "-peers.health="+healthPeer[1])
	m.gateways = []string{g1.HTTP, g2.HTTP}
	for _, g := range m.gateways {
		waitReady(t, g) // also waits until both registries route the provider's tools
	}
	if o.haproxy {
		backends := []string{strings.TrimPrefix(g1.HTTP, "http://"), strings.TrimPrefix(g2.HTTP, "http://")}
		lb, stats := startHAProxy(t, "gateway", "http", append(backends, m.spares["gateway"]...)...)
		m.gatewayLB, m.stats["gateway"] = "http://"+lb, stats
	}
	var next atomic.Uint64
	proxies := make([]*httputil.ReverseProxy, len(m.gateways))
	for i, g := range m.gateways {
		u, err := url.Parse(g)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
		proxies[i].FlushInterval = -1 // stream SSE at once
		// Its own connection pool, shared with nothing else in the test process.
		proxies[i].Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	m.lb = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(next.Add(1) % uint64(len(proxies)))
		m.hits[i].Add(1)
		proxies[i].ServeHTTP(w, r)
	}))
	t.Cleanup(m.lb.Close)
	return m
}

// TestReplicasWithoutStickySessions runs full stateful sessions through a round-robin
// load balancer: consecutive requests of one session land on different replicas of
// every service, which share sessions and the registry through PostgreSQL.
func TestReplicasWithoutStickySessions(t *testing.T) {
	m := startReplicated(t)
	rec := recorder(t)
	for _, v := range []string{"2025-11-25", ""} {
		t.Run("version="+v, func(t *testing.T) { runSDKScenario(t, m.lb.URL, v, rec) })
	}
	// Subscriptions, list_changed and client input of a stateful session through the
	// balancer: the notification and the answer of a request usually arrive at another
	// replica than the one holding the client's stream (PostgreSQL carries them
	// across). The stateless generation keeps nothing between requests, so
	// TestServerMessages covers it in one process.
	t.Run("server messages", func(t *testing.T) {
		runServerMessages(t, m.lb.URL, m.gateways, m.processes["registry-1"].GRPC, "2025-11-25", rec)
	})
	for i := range m.hits {
		if m.hits[i].Load() < 5 {
			t.Errorf("gateway %d served only %d requests: the load balancer did not spread the sessions", i+1, m.hits[i].Load())
		}
	}

	t.Run("initialize, call and delete on different replicas", func(t *testing.T) {
		c := rec.Client()
		s := initialize(t, c, m.gateways[0], "2025-11-25") // replica 1
		// A request through replica 1 leaves the session in its read cache.
		if resp := s.post(t, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("tools/list on the first replica: %d", resp.StatusCode)
		} else {
			_ = resp.Body.Close()
		}
		s.base = m.gateways[1] // everything else on replica 2
		resp := s.post(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"across"}}}`, nil)
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Error != nil || !strings.Contains(string(out.Result), "across") {
			t.Fatalf("call on the other replica: %+v %v", out, err)
		}
		resp = do(t, c, http.MethodDelete, m.gateways[1]+"/mcp", "", map[string]string{"Mcp-Session-Id": s.id, "MCP-Protocol-Version": s.version})
		_ = resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("DELETE on the other replica: %d", resp.StatusCode)
		}
		// The DELETE is answered only once replica 1 no longer serves its cached copy
		// (session.read_cache_fence): the session is gone there at once.
		s.base = m.gateways[0]
		listed := s.post(t, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, nil)
		expectError(t, listed, http.StatusNotFound, -32600)
	})

	t.Run("go sdk session through the balancer keeps working", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client := mcp.NewClient(&mcp.Implementation{Name: "lb", Version: "1"}, nil)
		session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: m.lb.URL + "/mcp", HTTPClient: rec.Client(), MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			t.Fatal(err)
		}
		defer session.Close()
		for i := range 10 {
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": i, "b": 1}})
			if err != nil || res.IsError {
				t.Fatalf("call %d: %v %+v", i, err, res)
			}
		}
	})
}
