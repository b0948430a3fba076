package mesh

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// The shutdown sequence, as documented on moduleTable and in docs/architecture.md:
// readiness off and HTTP drained, the provider deregistered, NOT_SERVING, the drain
// delay, long-lived streams ended, GracefulStop. The test watches it from outside,
// over the network, as a load balancer and clients would, and checks the order in
// which the modules stop.
func TestShutdownOrder(t *testing.T) {
	var (
		stops []string
		mu    sync.Mutex
	)
	cfg := allInOne(t)
	cfg.GRPC.DrainDelay = time.Second // long enough to look around in
	m, err := New(cfg, slog.New(slog.DiscardHandler), recordStops(&stops, &mu))
	if err != nil {
		t.Fatal(err)
	}
	grpcAddr, httpAddr := m.Addresses()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitReady(t, "http://"+httpAddr)

	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cc.Close() }()
	registry := registryv1.NewRegistryServiceClient(cc)
	health := healthpb.NewHealthClient(cc)
	registered := func() bool {
		resp, err := registry.ListProviders(context.Background(), &registryv1.ListProvidersRequest{})
		return err == nil && slices.ContainsFunc(resp.GetProviders(), func(p *registryv1.Provider) bool { return p.GetName() == cfg.Everything.Name })
	}
	eventually.True(t, 10*time.Second, registered, "the provider registers")
	// A long-lived stream, open until the registry stops.
	watch, err := registry.WatchCatalogue(context.Background(), &registryv1.WatchCatalogueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatal(err)
	}
	streamEnded := make(chan time.Time, 1)
	go func() {
		for {
			if _, err := watch.Recv(); err != nil {
				streamEnded <- time.Now()
				return
			}
		}
	}()

	cancel()
	// NOT_SERVING comes after the HTTP drain and the deregistration...
	var notServingAt time.Time
	eventually.NoError(t, 5*time.Second, func() error {
		resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			err = fmt.Errorf("status %v", resp.GetStatus())
		}
		return err
	}, "gRPC health is NOT_SERVING")
	notServingAt = time.Now()
	if resp, err := http.Get("http://" + httpAddr + "/readyz"); err == nil {
		_ = resp.Body.Close()
		t.Errorf("the gateway still answers (/readyz %d) once gRPC is NOT_SERVING", resp.StatusCode)
	}
	if registered() {
		t.Error("the provider is still registered once gRPC is NOT_SERVING")
	}
	// ...the drain delay keeps serving (the stream is still open)...
	select {
	case at := <-streamEnded:
		t.Fatalf("the watch stream ended %s after NOT_SERVING, inside the drain delay", at.Sub(notServingAt))
	case <-time.After(cfg.GRPC.DrainDelay / 2):
	}
	// ...then the services end their long-lived streams, and the server drains.
	select {
	case <-streamEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("the watch stream never ended")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"gateway", "federation", "provider-registration", "dependency-watch", "grpc-serving", "health", "transport", "session", "provider-everything", "registry", "grpc-server"}
	if !slices.Equal(stops, want) {
		t.Errorf("modules stopped in order\n %v\nwant %v", stops, want)
	}
	canBind(t, grpcAddr)
	canBind(t, httpAddr)
}
