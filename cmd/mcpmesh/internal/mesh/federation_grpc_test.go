package mesh

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// healthService is a real gRPC server, grpc-go's own health service with server
// reflection, at a fixed address so that it can stop and start again there.
type healthService struct {
	addr   string
	health *health.Server
	srv    *grpc.Server
}

func startHealthService(t *testing.T, addr string) *healthService {
	t.Helper()
	return startHealthServiceSlow(t, addr, 0)
}

// startHealthServiceSlow is startHealthService whose reflection answers each stream
// only after delay, as a loaded server would.
func startHealthServiceSlow(t *testing.T, addr string, delay time.Duration) *healthService {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	slowReflection := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if strings.HasPrefix(info.FullMethod, "/grpc.reflection.") {
			time.Sleep(delay)
		}
		return handler(srv, ss)
	}
	h := &healthService{addr: lis.Addr().String(), health: health.NewServer(), srv: grpc.NewServer(grpc.StreamInterceptor(slowReflection))}
	h.health.SetServingStatus("billing", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(h.srv, h.health)
	reflection.Register(h.srv)
	go func() { _ = h.srv.Serve(lis) }()
	t.Cleanup(h.srv.Stop)
	return h
}

// grpcMesh runs the mesh like -target=all (the everything provider included, so the
// gRPC service's tools share the listings with a provider of many tools), with
// the gRPC services as federation.grpc.
func grpcMesh(t *testing.T, services ...federation.GRPCService) string {
	t.Helper()
	cfg := allInOne(t)
	cfg.Target = meshconfig.TargetAll
	cfg.Federation.GRPC = services
	cfg.Health.CheckInterval = 200 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return startWith(t, cfg)
}

// listedTools lists every tool (the SDK follows nextCursor) by name.
func listedTools(t *testing.T, cs *mcp.ClientSession) map[string]*mcp.Tool {
	t.Helper()
	tools := map[string]*mcp.Tool{}
	for tool, err := range cs.Tools(t.Context(), nil) {
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		tools[tool.Name] = tool
	}
	return tools
}

// A gRPC service configured in federation.grpc is a provider: its allowed methods are
// listed as tools by both protocol generations, with input schemas from the request
// message, and calls reach the service; bad calls get clear errors.
func TestFederationGRPCServiceAsTools(t *testing.T) {
	// Slow to describe itself: the mesh must not be ready before its tools are listed.
	svc := startHealthServiceSlow(t, "127.0.0.1:0", 500*time.Millisecond)
	base := grpcMesh(t, federation.GRPCService{
		Name: "health-svc", Address: svc.addr, Plaintext: true, Prefix: "hc",
		Services: []string{"grpc.health.v1.Health"},
		// Watch streams until the call ends; the allow-list leaves it out.
		Methods: []string{"grpc.health.v1.Health.Check", "grpc.health.v1.Health.List"},
		// Readings are the source's health checks: often, so that a stop shows soon.
		RefreshInterval: 300 * time.Millisecond,
	})
	want := []string{"hc__Health.Check", "hc__Health.List"}

	sessions := map[string]*mcp.ClientSession{}
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		// No ToolListChangedHandler: the SDK's default client, caching listings.
		client := mcp.NewClient(&mcp.Implementation{Name: "grpc-federation-test", Version: "1.0.0"}, nil)
		cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatalf("%s: connect: %v", version, err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		sessions[version] = cs
	}

	for version, cs := range sessions {
		t.Run("list "+version, func(t *testing.T) {
			// The mesh is ready only once the service's provider is in its catalogue,
			// so the first listing has its tools: these clients do not listen for
			// list_changed, and a 2026-07-28 one keeps that listing for a minute.
			tools := listedTools(t, cs)
			for _, name := range want {
				if tools[name] == nil {
					t.Fatalf("%s not in the first listing after the mesh was ready (%d tools)", name, len(tools))
				}
			}
			if tools["hc__Health.Watch"] != nil || tools["Health.Check"] != nil {
				t.Errorf("listed a method outside the allow-list or without the prefix: %v", slices.Sorted(mapsKeys(tools)))
			}
			if tools["echo"] == nil {
				t.Errorf("the everything provider's echo is missing beside the gRPC tools")
			}
			schema, _ := json.Marshal(tools["hc__Health.Check"].InputSchema)
			var s struct {
				Type       string `json:"type"`
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(schema, &s); err != nil || s.Type != "object" || s.Properties["service"].Type != "string" {
				t.Errorf("Check's input schema %s: want an object with the string property service", schema)
			}
			if d := tools["hc__Health.Check"].Description; !strings.Contains(d, "/grpc.health.v1.Health/Check") {
				t.Errorf("Check's description %q does not name the method", d)
			}
		})
	}

	for version, cs := range sessions {
		t.Run("call "+version, func(t *testing.T) {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "hc__Health.Check", Arguments: map[string]any{"service": "billing"}})
			if err != nil {
				t.Fatal(err)
			}
			if sc, _ := res.StructuredContent.(map[string]any); res.IsError || sc["status"] != "SERVING" {
				t.Errorf("Check billing: isError %v, structuredContent %v", res.IsError, res.StructuredContent)
			}

			// The service's own status is a tool error with its code and message.
			res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "hc__Health.Check", Arguments: map[string]any{"service": "nope"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultText(res); !res.IsError || got != "NOT_FOUND: unknown service" {
				t.Errorf("Check of an unknown service: isError %v, %q", res.IsError, got)
			}

			// An argument of the wrong type breaks the input schema: refused before the
			// service is called, naming the argument.
			res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "hc__Health.Check", Arguments: map[string]any{"service": 5}})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultText(res); !res.IsError || !strings.Contains(got, "service") {
				t.Errorf("a number for service: isError %v, %q", res.IsError, got)
			}

			// A method the allow-list leaves out is an unknown tool.
			_, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "hc__Health.Watch", Arguments: map[string]any{}})
			if err == nil || !strings.Contains(err.Error(), "Unknown tool: hc__Health.Watch") {
				t.Errorf("a method outside the allow-list: %v, want Unknown tool", err)
			}
		})
	}

	waitForHealth(t, base, "health-svc", "STATUS_SERVING")

	// REST lists and calls the same tools.
	resp, err := http.Get(base + "/v1/tools?page_size=1000")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hc__Health.List"`) {
		t.Errorf("GET /v1/tools: %s, without hc__Health.List: %.300s", resp.Status, body)
	}
	resp, err = http.Post(base+"/v1/tools/hc__Health.List:call", "application/json", strings.NewReader(`{"arguments":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"billing"`) {
		t.Errorf("POST /v1/tools/hc__Health.List:call: %s %s", resp.Status, body)
	}

	// The service down: the tool stays listed, and its calls are tool errors that say
	// the service is unavailable (the details are in the log, under the error id).
	svc.srv.Stop()
	cs := sessions["2025-11-25"]
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "hc__Health.Check", Arguments: map[string]any{"service": "billing"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := resultText(res); !res.IsError || !strings.HasPrefix(got, "the gRPC service health-svc is unavailable (id ") || strings.Contains(got, svc.addr) {
		t.Errorf("Check with the service down: isError %v, %q", res.IsError, got)
	}
	if listedTools(t, cs)["hc__Health.Check"] == nil {
		t.Error("the tool left the listing while its service is down")
	}
	waitForHealth(t, base, "health-svc", "STATUS_NOT_SERVING")

	// Back at the same address, it answers again.
	startHealthService(t, svc.addr)
	waitForHealth(t, base, "health-svc", "STATUS_SERVING")
	eventually.NoError(t, 20*time.Second, func() error {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "hc__Health.Check", Arguments: map[string]any{"service": "billing"}})
		if err != nil {
			return err
		}
		if res.IsError {
			return fmt.Errorf("tool error %q", resultText(res))
		}
		return nil
	}, "Check answers once the service is back")
}

func resultText(res *mcp.CallToolResult) string {
	if res == nil || len(res.Content) == 0 {
		return ""
	}
	if text, ok := res.Content[0].(*mcp.TextContent); ok {
		return text.Text
	}
	return ""
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// A gRPC service that comes up after the mesh, and after clients listed the tools:
// its tools reach the listings of clients of both generations. A 2026-07-28 client
// keeps a listing for its ttlMs (session.cache_ttl) unless told the list changed, so
// these clients listen for tools/list_changed (the Go SDK then opens
// subscriptions/listen); without it, the tool is callable at once but absent from
// that client's listing until its cached copy expires.
func TestFederationGRPCServiceStartedLate(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	base := grpcMesh(t, federation.GRPCService{
		Name: "health-svc", Address: addr, Plaintext: true,
		Services: []string{"grpc.health.v1.Health"}, Methods: []string{"grpc.health.v1.Health.Check"},
	})
	sessions := map[string]*mcp.ClientSession{}
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		client := mcp.NewClient(&mcp.Implementation{Name: "grpc-federation-test", Version: "1.0.0"}, &mcp.ClientOptions{
			ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {},
		})
		cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatalf("%s: connect: %v", version, err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		sessions[version] = cs
		eventually.NoError(t, 20*time.Second, func() error {
			if listedTools(t, cs)["echo"] == nil {
				return fmt.Errorf("echo not listed yet")
			}
			return nil
		}, "the everything provider is listed")
		if listedTools(t, cs)["Health.Check"] != nil {
			t.Fatal("the service is not up, yet its tool is listed")
		}
	}
	// Until its descriptors are read the source has no tools: it is not registered
	// (an empty provider would make every listing until then miss its tools).
	resp, err := http.Get(base + "/v1/providers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"everything"`) || strings.Contains(string(body), `"health-svc"`) {
		t.Fatalf("GET /v1/providers with the service down: %s %s; want everything and not health-svc", resp.Status, body)
	}

	startHealthService(t, addr)
	for version, cs := range sessions {
		eventually.NoError(t, 30*time.Second, func() error {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "Health.Check", Arguments: map[string]any{"service": "billing"}})
			if err != nil {
				return err
			}
			if res.IsError {
				return fmt.Errorf("tool error %q", resultText(res))
			}
			return nil
		}, "%s: Health.Check is callable", version)
		// The list_changed notification that invalidates the client's cached listing
		// travels apart from the call's answer.
		eventually.NoError(t, 10*time.Second, func() error {
			if listedTools(t, cs)["Health.Check"] == nil {
				return fmt.Errorf("callable but not listed")
			}
			return nil
		}, "%s: Health.Check is listed", version)
	}
}
