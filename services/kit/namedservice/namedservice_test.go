package namedservice_test

import (
	"context"
	"net"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/namedservice"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// healthNamed is a health server that reports SERVING only for its own name, so a
// call shows which implementation answered.
func healthNamed(name string) *health.Server {
	h := health.NewServer()
	h.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	return h
}

func serve(t *testing.T, mux *namedservice.Mux) healthpb.HealthClient {
	t.Helper()
	return healthpb.NewHealthClient(serveConn(t, mux))
}

// serveConn serves mux on a loopback port and returns a connection to it.
func serveConn(t *testing.T, mux *namedservice.Mux) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	srv.RegisterService(mux.Desc(), mux)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

func TestCallsReachTheImplementationTheyName(t *testing.T) {
	mux := namedservice.New(&healthpb.Health_ServiceDesc)
	mux.Set("a", healthNamed("a"))
	mux.Set("b", healthNamed("b"))
	client := serve(t, mux)
	ctx := t.Context()

	tests := []struct {
		name, service string
		want          codes.Code
	}{
		{"a", "a", codes.OK},
		{"a", "b", codes.NotFound}, // a knows nothing of b: the call reached a
		{"b", "b", codes.OK},
		{"c", "a", codes.NotFound},          // nothing named c is served
		{"", "a", codes.FailedPrecondition}, // two are served: the call must name one
	}
	for _, tt := range tests {
		callCtx := ctx
		if tt.name != "" {
			callCtx = namedservice.Outgoing(ctx, tt.name)
		}
		_, err := client.Check(callCtx, &healthpb.HealthCheckRequest{Service: tt.service})
		if got := status.Code(err); got != tt.want {
			t.Errorf("call for %q checking %q: got %v (%v), want %v", tt.name, tt.service, got, err, tt.want)
		}
	}
}

func TestAnUnnamedCallGoesToTheOnlyImplementation(t *testing.T) {
	mux := namedservice.New(&healthpb.Health_ServiceDesc)
	mux.Set("a", healthNamed("a"))
	client := serve(t, mux)
	if _, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{Service: "a"}); err != nil {
		t.Fatalf("unnamed call with one implementation: %v", err)
	}
	mux.Remove("a")
	_, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{Service: "a"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("unnamed call with none: got %v, want FailedPrecondition", err)
	}
	if got := mux.Names(); len(got) != 0 {
		t.Fatalf("names after Remove: %v", got)
	}
}

// Streams are routed too, and Conn names the implementation on every call.
func TestStreamsAreRoutedThroughANamedConn(t *testing.T) {
	mux := namedservice.New(&healthpb.Health_ServiceDesc)
	mux.Set("a", healthNamed("a"))
	mux.Set("b", healthNamed("b"))
	client := healthpb.NewHealthClient(namedservice.Conn(serveConn(t, mux), "b"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "b"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch of b through b: %v, want SERVING", resp.GetStatus())
	}
}

func TestSetRejectsAForeignImplementation(t *testing.T) {
	mux := namedservice.New(&healthpb.Health_ServiceDesc)
	defer func() {
		if recover() == nil {
			t.Fatal("Set accepted a value that does not implement the service")
		}
	}()
	mux.Set("x", struct{}{})
}
