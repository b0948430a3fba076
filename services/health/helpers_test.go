package health_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/health"
)

// healthServer starts a real gRPC server whose grpc.health.v1 reports the given
// statuses (service name -> status), and returns its address and health server.
func healthServer(t *testing.T, statuses map[string]healthpb.HealthCheckResponse_ServingStatus) (string, *grpchealth.Server) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer()
	hs := grpchealth.NewServer()
	for name, st := range statuses {
		hs.SetServingStatus(name, st)
	}
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), hs
}

// serving is the status map of a server whose named service is serving.
func serving(service string) map[string]healthpb.HealthCheckResponse_ServingStatus {
	return map[string]healthpb.HealthCheckResponse_ServingStatus{service: healthpb.HealthCheckResponse_SERVING}
}

// refusedAddress is a loopback address nobody listens on.
func refusedAddress(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

// silentAddress accepts TCP connections (in the kernel backlog) but never answers.
func silentAddress(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	return lis.Addr().String()
}

// httpHealth serves /healthz with the given status code.
func httpHealth(t *testing.T, code int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// registryServer is a small real RegistryService that lists a settable set of
// providers and counts listings (one per health round).
type registryServer struct {
	registryv1.UnimplementedRegistryServiceServer

	mu        sync.Mutex
	providers []*registryv1.Provider
	fail      bool
	listed    chan struct{}
}

func (r *registryServer) ListProviders(context.Context, *registryv1.ListProvidersRequest) (*registryv1.ListProvidersResponse, error) {
	r.mu.Lock()
	providers, fail := r.providers, r.fail
	r.mu.Unlock()
	select {
	case r.listed <- struct{}{}:
	default:
	}
	if fail {
		return nil, status.Error(codes.Unavailable, "registry store down")
	}
	return &registryv1.ListProvidersResponse{Providers: providers}, nil
}

// startRegistry serves a registryServer over loopback and returns a client for it.
func startRegistry(t *testing.T, providers []*registryv1.Provider, fail bool) (*registryServer, registryv1.RegistryServiceClient) {
	t.Helper()
	reg := &registryServer{providers: providers, fail: fail, listed: make(chan struct{})}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer()
	registryv1.RegisterRegistryServiceServer(srv, reg)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn := dialLoopback(t, lis.Addr().String())
	return reg, registryv1.NewRegistryServiceClient(conn)
}

// waitListings waits until the registry has been asked n more times, which means at
// least n-1 rounds completed.
func (r *registryServer) waitListings(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-r.listed:
		case <-timeout:
			t.Fatalf("health rounds did not run")
		}
	}
}

func dialLoopback(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// startHealth builds the health service, serves it over loopback through the kit's
// gRPC server and returns the service and a client. The service is stopped at cleanup.
func startHealth(t *testing.T, cfg health.Config, registry registryv1.RegistryServiceClient) (*health.Service, healthv1.HealthServiceClient) {
	t.Helper()
	return startHealthDeps(t, cfg, health.Deps{Registry: registry})
}

// startHealthDeps is startHealth with more collaborators; Conns is filled in.
func startHealthDeps(t *testing.T, cfg health.Config, deps health.Deps) (*health.Service, healthv1.HealthServiceClient) {
	t.Helper()
	dialer := dial.New(nil)
	t.Cleanup(func() { _ = dialer.Close() })
	deps.Conns = dialer
	deps.Version = testVersion
	svc, err := health.New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := grpcserver.New(grpcserver.Settings{})
	svc.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	conn := dialLoopback(t, lis.Addr().String())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return svc, healthv1.NewHealthServiceClient(conn)
}

// databaseCheck is the check the binary gives the health service: a real pool on url
// whose failures are diagnosed by kit/pgdb.
func databaseCheck(t *testing.T, url string) *health.Database {
	t.Helper()
	cfg := pgdb.DefaultConfig()
	cfg.URL = url
	pool, err := pgdb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &health.Database{Name: "postgres", Address: "db", Check: func(ctx context.Context) error {
		if err := pgdb.Ping(ctx, pool); err != nil {
			_, msg := pgdb.Diagnose(err, cfg)
			return errors.New(msg)
		}
		return nil
	}}
}

// testVersion is the build version startHealth gives the service: every answer must
// carry it.
const testVersion = "v9.8.7-test"
