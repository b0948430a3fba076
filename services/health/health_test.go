package health_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/health"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	transportName = "mcpmesh.transport.v1.TransportService"
	sessionName   = "mcpmesh.session.v1.SessionService"
	registryName  = "mcpmesh.registry.v1.RegistryService"
	providerName  = "mcpmesh.provider.v1.ProviderService"
)

const (
	svcKind      = healthv1.ComponentKind_COMPONENT_KIND_SERVICE
	providerKind = healthv1.ComponentKind_COMPONENT_KIND_PROVIDER
	dbKind       = healthv1.ComponentKind_COMPONENT_KIND_DATABASE
	up           = healthv1.Status_STATUS_SERVING
	down         = healthv1.Status_STATUS_NOT_SERVING
	degraded     = healthv1.Status_STATUS_DEGRADED
)

// want is the part of a component a test pins down.
type want struct {
	kind    healthv1.ComponentKind
	name    string
	status  healthv1.Status
	message string
}

func TestCheck(t *testing.T) {
	notServing := map[string]healthpb.HealthCheckResponse_ServingStatus{
		providerName: healthpb.HealthCheckResponse_NOT_SERVING,
	}
	tests := []struct {
		name string
		// setup returns the services to configure and the providers to register.
		setup        func(t *testing.T) (map[string]string, []*registryv1.Provider)
		listingFails bool
		// database, when set, returns the URL of the database the health service checks.
		database   func(t *testing.T) string
		timeout    time.Duration
		wantStatus healthv1.Status
		want       []want
	}{
		{
			name: "all serving, ordered by kind then name",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				tr, _ := healthServer(t, serving(transportName))
				se, _ := healthServer(t, serving(sessionName))
				re, _ := healthServer(t, serving(registryName))
				// Only "" is known: the provider check falls back to the server's status.
				pz, _ := healthServer(t, nil)
				pa, _ := healthServer(t, serving(providerName))
				services := map[string]string{
					"transport": tr, "session": se, "registry": re,
					"gateway": httpHealth(t, http.StatusOK), "health": "inproc",
				}
				providers := []*registryv1.Provider{{Name: "zeta", Address: pz}, {Name: "alpha", Address: pa}}
				return services, providers
			},
			wantStatus: up,
			want: []want{
				{svcKind, "gateway", up, ""},
				{svcKind, "registry", up, ""},
				{svcKind, "session", up, ""},
				{svcKind, "transport", up, ""},
				{providerKind, "alpha", up, ""},
				{providerKind, "zeta", up, ""},
			},
		},
		{
			name: "a service not serving makes the mesh not serving",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				tr, _ := healthServer(t, serving(transportName))
				se, _ := healthServer(t, map[string]healthpb.HealthCheckResponse_ServingStatus{
					sessionName: healthpb.HealthCheckResponse_NOT_SERVING,
				})
				return map[string]string{"transport": tr, "session": se}, nil
			},
			wantStatus: down,
			want: []want{
				{svcKind, "session", down, "NOT_SERVING"},
				{svcKind, "transport", up, ""},
				{providerKind, "(no providers)", down, "no provider is registered: clients see no tools, resources or prompts"},
			},
		},
		{
			name: "a service that does not register its name is not serving",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				tr, _ := healthServer(t, nil)
				return map[string]string{"transport": tr}, nil
			},
			wantStatus: down,
			want:       []want{{svcKind, "transport", down, "service not registered with grpc health"}, {providerKind, "(no providers)", down, "no provider is registered: clients see no tools, resources or prompts"}},
		},
		{
			name: "refused connection fails fast, not by timeout",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				return map[string]string{"transport": refusedAddress(t)}, nil
			},
			// Long enough that a timeout would be noticed; the refusal answers at once.
			timeout:    30 * time.Second,
			wantStatus: down,
			want:       []want{{svcKind, "transport", down, "connection refused"}, {providerKind, "(no providers)", down, "no provider is registered: clients see no tools, resources or prompts"}},
		},
		{
			name: "a silent address times out",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				return map[string]string{"session": silentAddress(t)}, nil
			},
			timeout:    300 * time.Millisecond,
			wantStatus: down,
			want:       []want{{svcKind, "session", down, "timeout after 300ms"}, {providerKind, "(no providers)", down, "no provider is registered: clients see no tools, resources or prompts"}},
		},
		{
			name: "gateway over http answering 503",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				return map[string]string{"gateway": httpHealth(t, http.StatusServiceUnavailable)}, nil
			},
			wantStatus: down,
			want:       []want{{svcKind, "gateway", down, "HTTP 503"}, {providerKind, "(no providers)", down, "no provider is registered: clients see no tools, resources or prompts"}},
		},
		{
			name: "a gateway given as a gRPC target is skipped",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				return map[string]string{"gateway": refusedAddress(t)}, nil
			},
			wantStatus: degraded,
			want:       []want{{providerKind, "(no providers)", down, "no provider is registered: clients see no tools, resources or prompts"}},
		},
		{
			name: "a provider down degrades the mesh",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				tr, _ := healthServer(t, serving(transportName))
				pn, _ := healthServer(t, notServing)
				return map[string]string{"transport": tr}, []*registryv1.Provider{
					{Name: "gone", Address: refusedAddress(t)},
					{Name: "tired", Address: pn},
				}
			},
			wantStatus: degraded,
			want: []want{
				{svcKind, "transport", up, ""},
				{providerKind, "gone", down, "connection refused"},
				{providerKind, "tired", down, "NOT_SERVING"},
			},
		},
		{
			name: "no provider at all degrades the mesh",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				tr, _ := healthServer(t, serving(transportName))
				return map[string]string{"transport": tr}, nil
			},
			wantStatus: degraded,
			want:       []want{{svcKind, "transport", up, ""}, {providerKind, "(no providers)", down, "no provider is registered: clients see no tools, resources or prompts"}},
		},
		{
			name: "a database that answers is a serving component",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				pa, _ := healthServer(t, serving(providerName))
				return nil, []*registryv1.Provider{{Name: "p", Address: pa}}
			},
			database:   func(t *testing.T) string { return pgtest.NewDatabase(t) },
			wantStatus: up,
			want:       []want{{providerKind, "p", up, ""}, {dbKind, "postgres", up, ""}},
		},
		{
			name: "a stopped database makes the mesh not serving and is named with the error that reached it",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				pa, _ := healthServer(t, serving(providerName))
				return nil, []*registryv1.Provider{{Name: "p", Address: pa}}
			},
			database:   func(t *testing.T) string { return "postgres://mesh:pw@" + refusedAddress(t) + "/mesh?sslmode=disable" },
			timeout:    30 * time.Second,
			wantStatus: down,
			want:       []want{{providerKind, "p", up, ""}, {dbKind, "postgres", down, "connection refused at 127.0.0.1:*"}},
		},
		{
			name: "a silent database times out",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				pa, _ := healthServer(t, serving(providerName))
				return nil, []*registryv1.Provider{{Name: "p", Address: pa}}
			},
			database:   func(t *testing.T) string { return "postgres://mesh:pw@" + silentAddress(t) + "/mesh?sslmode=disable" },
			timeout:    300 * time.Millisecond,
			wantStatus: down,
			want:       []want{{providerKind, "p", up, ""}, {dbKind, "postgres", down, "timeout after 300ms"}},
		},
		{
			name: "a failed provider listing degrades the mesh",
			setup: func(t *testing.T) (map[string]string, []*registryv1.Provider) {
				tr, _ := healthServer(t, serving(transportName))
				return map[string]string{"transport": tr}, nil
			},
			listingFails: true,
			wantStatus:   degraded,
			want: []want{
				{svcKind, "transport", up, ""},
				{providerKind, "(provider list)", down, "cannot list providers: unavailable"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			services, providers := tt.setup(t)
			_, registry := startRegistry(t, providers, tt.listingFails)
			cfg := health.DefaultConfig()
			cfg.Services = services
			if tt.timeout > 0 {
				cfg.CheckTimeout = tt.timeout
			}
			deps := health.Deps{Registry: registry}
			if tt.database != nil {
				deps.Database = databaseCheck(t, tt.database(t))
			}
			svc, client := startHealthDeps(t, cfg, deps)
			if got := svc.Latest(); got != nil {
				t.Fatalf("Latest before any round = %v, want nil", got)
			}

			// Not started: Check runs the first round itself.
			resp, err := client.Check(t.Context(), &healthv1.CheckRequest{})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			assertHealth(t, resp, tt.wantStatus, tt.want)
			if resp.GetVersion() != testVersion {
				t.Errorf("version = %q, want the build's %q", resp.GetVersion(), testVersion)
			}
			for _, c := range resp.GetComponents() {
				if c.GetCheckedAt() == nil || c.GetLatency() == nil {
					t.Errorf("component %s: checked_at or latency unset", c.GetName())
				}
			}
			if got := svc.Latest(); got == nil || got.GetStatus() != tt.wantStatus {
				t.Errorf("Latest after Check = %v, want status %v", got, tt.wantStatus)
			}
		})
	}
}

func assertHealth(t *testing.T, resp *healthv1.CheckResponse, wantStatus healthv1.Status, wantComponents []want) {
	t.Helper()
	if resp.GetStatus() != wantStatus {
		t.Errorf("status = %v, want %v", resp.GetStatus(), wantStatus)
	}
	got := resp.GetComponents()
	if len(got) != len(wantComponents) {
		t.Fatalf("got %d components %v, want %d", len(got), got, len(wantComponents))
	}
	for i, w := range wantComponents {
		g := want{got[i].GetKind(), got[i].GetName(), got[i].GetStatus(), got[i].GetMessage()}
		// A message ending in * is a prefix (the rest holds a port chosen at run time).
		if prefix, ok := strings.CutSuffix(w.message, "*"); ok && strings.HasPrefix(g.message, prefix) {
			g.message = w.message
		}
		if g != w {
			t.Errorf("component %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestWatchEmitsOnlyOnChange(t *testing.T) {
	trAddr, trHealth := healthServer(t, serving(transportName))
	provAddr, provHealth := healthServer(t, serving(providerName))
	reg, registry := startRegistry(t, []*registryv1.Provider{{Name: "p", Address: provAddr}}, false)
	cfg := health.DefaultConfig()
	cfg.Services = map[string]string{"transport": trAddr}
	cfg.CheckInterval = 10 * time.Millisecond
	cfg.CheckTimeout = 5 * time.Second
	svc, client := startHealth(t, cfg, registry)
	if err := svc.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}

	stream, err := client.Watch(t.Context(), &healthv1.WatchRequest{})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	if got := first.GetHealth().GetStatus(); got != up {
		t.Fatalf("first status = %v, want SERVING", got)
	}

	steps := []struct {
		name       string
		change     func()
		wantStatus healthv1.Status
		want       []want
	}{
		{
			name:       "provider stops serving",
			change:     func() { provHealth.SetServingStatus(providerName, healthpb.HealthCheckResponse_NOT_SERVING) },
			wantStatus: degraded,
			want:       []want{{svcKind, "transport", up, ""}, {providerKind, "p", down, "NOT_SERVING"}},
		},
		{
			name:       "transport stops serving",
			change:     func() { trHealth.SetServingStatus(transportName, healthpb.HealthCheckResponse_NOT_SERVING) },
			wantStatus: down,
			want:       []want{{svcKind, "transport", down, "NOT_SERVING"}, {providerKind, "p", down, "NOT_SERVING"}},
		},
		{
			name: "both recover",
			change: func() {
				trHealth.SetServingStatus(transportName, healthpb.HealthCheckResponse_SERVING)
				provHealth.SetServingStatus(providerName, healthpb.HealthCheckResponse_SERVING)
			},
			wantStatus: up,
			want:       []want{{svcKind, "transport", up, ""}, {providerKind, "p", up, ""}},
		},
	}
	for _, step := range steps {
		// Several unchanged rounds pass first: had any of them been sent, the next
		// message would repeat the previous statuses instead of showing the change.
		reg.waitListings(t, 4)
		step.change()
		var msg *healthv1.WatchResponse
		// The two flips of "both recover" may land in different rounds; the
		// intermediate state is a legitimate change, so skip to the final one.
		for msg == nil || msg.GetHealth().GetStatus() != step.wantStatus {
			if msg, err = stream.Recv(); err != nil {
				t.Fatalf("%s: Recv: %v", step.name, err)
			}
			if step.wantStatus != up && msg.GetHealth().GetStatus() != step.wantStatus {
				t.Fatalf("%s: got status %v, want %v (an unchanged round was sent?)", step.name, msg.GetHealth().GetStatus(), step.wantStatus)
			}
		}
		assertHealth(t, msg.GetHealth(), step.wantStatus, step.want)
	}

	// Stop ends open watches so that clients reconnect elsewhere.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("Recv after Stop: %v, want Unavailable", err)
	}
	if err := svc.Start(t.Context()); err == nil {
		t.Fatalf("Start after Stop succeeded, want an error")
	}
}

func TestStartTwice(t *testing.T) {
	svc, _ := startHealth(t, health.DefaultConfig(), nil)
	if err := svc.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := svc.Start(t.Context()); err == nil {
		t.Fatalf("second Start succeeded, want an error")
	}
}

func TestNewRequiresConnsForGRPCTargets(t *testing.T) {
	cfg := health.DefaultConfig()
	cfg.Services = map[string]string{"transport": "127.0.0.1:1"}
	if _, err := health.New(cfg, health.Deps{}); err == nil {
		t.Fatalf("New without Conns succeeded, want an error")
	}
	cfg.Services = map[string]string{"gateway": "http://127.0.0.1:1"}
	svc, err := health.New(cfg, health.Deps{})
	if err != nil {
		t.Fatalf("New with only HTTP targets: %v", err)
	}
	if err := svc.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestRestartedServiceRecovers(t *testing.T) {
	addr := refusedAddress(t)
	cfg := health.DefaultConfig()
	cfg.Services = map[string]string{"session": addr}
	cfg.CheckInterval = 10 * time.Millisecond
	svc, client := startHealth(t, cfg, nil)
	if err := svc.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	stream, err := client.Watch(ctx, &healthv1.WatchRequest{})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	msg, err := stream.Recv()
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	assertHealth(t, msg.GetHealth(), down, []want{{svcKind, "session", down, "connection refused"}})

	// The service comes up on the same address: the connection leaves its reconnect
	// backoff and the next change shows it serving.
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("address %s was taken meanwhile: %v", addr, err)
	}
	srv := grpc.NewServer()
	hs := grpchealth.NewServer()
	hs.SetServingStatus(sessionName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	msg, err = stream.Recv()
	if err != nil {
		t.Fatalf("Recv after restart: %v", err)
	}
	assertHealth(t, msg.GetHealth(), up, []want{{svcKind, "session", up, ""}})
}

// A starting mesh is reported healthy as soon as its provider registers, not a whole
// check_interval later: until the first serving round, rounds come every 500ms.
func TestStartingMeshTurnsHealthyQuickly(t *testing.T) {
	pa, _ := healthServer(t, serving(providerName))
	reg, registry := startRegistry(t, nil, false)
	cfg := health.DefaultConfig()
	cfg.CheckInterval = time.Hour
	svc, _ := startHealth(t, cfg, registry)
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	reg.waitListings(t, 1) // the first round found no provider
	reg.mu.Lock()
	reg.providers = []*registryv1.Provider{{Name: "p", Address: pa}}
	reg.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for svc.Latest().GetStatus() != up {
		if time.Now().After(deadline) {
			t.Fatalf("status %v 10s after the provider registered, with check_interval 1h", svc.Latest().GetStatus())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
