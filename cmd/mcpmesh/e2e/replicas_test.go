package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// replicatedMesh runs two replicas each of registry, session, transport and gateway
// over one PostgreSQL database, plus the everything provider and the health service,
// behind a round-robin HTTP load balancer with no session affinity.
type replicatedMesh struct {
	lb       *httptest.Server
	gateways []string
	hits     []atomic.Int64
}

func startReplicated(t *testing.T) *replicatedMesh {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	env := []string{"MCPMESH_DATABASE_URL=" + dsn, "MCPMESH_REGISTRY_REFRESH_INTERVAL=100ms"}
	migrate := exec.Command(binary, "migrate")
	migrate.Env = append(migrate.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("mcpmesh migrate: %v\n%s", err, out)
	}
	const anyPort = "-grpc.listen=127.0.0.1:0"
	reg1 := startWithEnv(t, "registry-1", env, "-target=registry", anyPort)
	reg2 := startWithEnv(t, "registry-2", env, "-target=registry", anyPort)
	start(t, "provider", "-target=provider-everything", anyPort, "-peers.registry="+reg1.GRPC)
	s1 := startWithEnv(t, "session-1", env, "-target=session", anyPort, "-peers.registry="+reg1.GRPC)
	s2 := startWithEnv(t, "session-2", env, "-target=session", anyPort, "-peers.registry="+reg2.GRPC)
	t1 := start(t, "transport-1", "-target=transport", anyPort, "-peers.session="+s1.GRPC)
	t2 := start(t, "transport-2", "-target=transport", anyPort, "-peers.session="+s2.GRPC)
	hl := start(t, "health", "-target=health", anyPort, "-peers.registry="+reg1.GRPC,
		"-peers.transport="+t1.GRPC, "-peers.session="+s1.GRPC)
	g1 := start(t, "gateway-1", "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+t1.GRPC, "-peers.registry="+reg1.GRPC, "-peers.session="+s1.GRPC, "-peers.health="+hl.GRPC)
	g2 := start(t, "gateway-2", "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+t2.GRPC, "-peers.registry="+reg2.GRPC, "-peers.session="+s2.GRPC, "-peers.health="+hl.GRPC)
	m := &replicatedMesh{gateways: []string{g1.HTTP, g2.HTTP}, hits: make([]atomic.Int64, 2)}
	for _, g := range m.gateways {
		waitReady(t, g) // also waits until both registries route the provider's tools
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
	for i := range m.hits {
		if m.hits[i].Load() < 5 {
			t.Errorf("gateway %d served only %d requests: the load balancer did not spread the sessions", i+1, m.hits[i].Load())
		}
	}

	t.Run("initialize, call and delete on different replicas", func(t *testing.T) {
		c := rec.Client()
		s := initialize(t, c, m.gateways[0], "2025-11-25") // replica 1
		s.base = m.gateways[1]                             // everything else on replica 2
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
		s.base = m.gateways[0]
		expectError(t, s.post(t, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, nil), http.StatusNotFound, -32600)
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
