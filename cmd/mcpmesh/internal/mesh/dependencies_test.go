package mesh

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

var (
	transportService = transportv1.TransportService_ServiceDesc.ServiceName
	sessionService   = sessionv1.SessionService_ServiceDesc.ServiceName
	registryService  = registryv1.RegistryService_ServiceDesc.ServiceName
)

// runMesh runs cfg until the test ends and returns a health client of its gRPC server.
func runMesh(t *testing.T, cfg meshconfig.Config) healthpb.HealthClient {
	t.Helper()
	cfg.GRPC.Listen = "127.0.0.1:0"
	m := serveMesh(t, cfg)
	grpcAddr, _ := m.Addresses()
	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return healthpb.NewHealthClient(cc)
}

// serveMesh builds cfg and runs it until the test ends.
func serveMesh(t *testing.T, cfg meshconfig.Config) *Mesh {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return m
}

// waitStatus waits (bounded) until every service reports want.
func waitStatus(t *testing.T, h healthpb.HealthClient, want healthpb.HealthCheckResponse_ServingStatus, services ...string) {
	t.Helper()
	for _, s := range services {
		eventually.NoError(t, 10*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: s})
			if err == nil && resp.GetStatus() != want {
				err = fmt.Errorf("status %v", resp.GetStatus())
			}
			return err
		}, "health of %q is %v", s, want)
	}
}

func TestTransportFollowsItsSessionPeer(t *testing.T) {
	// A port nothing listens on.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	_ = lis.Close()
	cfg := meshconfig.Default()
	cfg.Target = meshconfig.TargetTransport
	cfg.Peers.Session = dead
	h := runMesh(t, cfg)
	waitStatus(t, h, healthpb.HealthCheckResponse_NOT_SERVING, transportService)
	waitStatus(t, h, healthpb.HealthCheckResponse_SERVING, "") // liveness is untouched
}

func TestServicesFollowTheDatabase(t *testing.T) {
	db := pgtest.NewServer(t)
	cfg := meshconfig.Default()
	cfg.Target = "registry,session,transport"
	cfg.Database.URL = db.URL()
	cfg.Database.MigrateOnStart = true
	h := runMesh(t, cfg)
	chain := []string{registryService, sessionService, transportService}
	waitStatus(t, h, healthpb.HealthCheckResponse_SERVING, chain...)

	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, h, healthpb.HealthCheckResponse_NOT_SERVING, chain...)
	waitStatus(t, h, healthpb.HealthCheckResponse_SERVING, "")

	if err := db.Start(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, h, healthpb.HealthCheckResponse_SERVING, chain...)
}
