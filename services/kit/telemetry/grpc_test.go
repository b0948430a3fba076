package telemetry_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
)

// traceRecorder is a health server that remembers the trace id its handler saw.
type traceRecorder struct {
	*health.Server
	seen chan trace.SpanContext
}

func (r traceRecorder) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	r.seen <- trace.SpanContextFromContext(ctx)
	return r.Server.Check(ctx, req)
}

func TestGRPCOptionsPropagateAndMeasure(t *testing.T) {
	tel := setup(t)
	defer func() { _ = tel.Shutdown(context.Background()) }()

	rec, _, client := serveTraced(t, tel)

	// A sampled caller, as if the request had come in with a traceparent header.
	ctx := tel.Propagator().Extract(context.Background(), metadataCarrier{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := (<-rec.seen).TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("server handler saw trace %s, want the caller's", got)
	}

	// The server's stats handler records the call after the response has left, so
	// the client may see the answer first: wait for the server's series.
	var missing []string
	var text string
	if !eventually.Within(10*time.Second, func() bool {
		families, scraped := scrape(t, tel)
		text = scraped
		missing = missing[:0]
		for _, prefix := range []string{"rpc_server_", "rpc_client_"} {
			found := false
			for name := range families {
				if strings.HasPrefix(name, prefix) {
					found = true
				}
			}
			if !found {
				missing = append(missing, prefix)
			}
		}
		return len(missing) == 0
	}) {
		t.Fatalf("no %v* metric after a call:\n%s", missing, text)
	}
}

type metadataCarrier map[string]string

func (c metadataCarrier) Get(k string) string { return c[k] }
func (c metadataCarrier) Set(k, v string)     { c[k] = v }
func (c metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// serveTraced serves a traceRecorder over loopback gRPC, instrumented by tel's stats
// handlers on both ends; it returns the recorder, the server and a client. Both stop
// when the test ends.
func serveTraced(t *testing.T, tel *telemetry.Telemetry) (traceRecorder, *grpc.Server, healthpb.HealthClient) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(tel.GRPCServerOption())
	rec := traceRecorder{Server: health.NewServer(), seen: make(chan trace.SpanContext, 1)}
	healthpb.RegisterHealthServer(srv, rec)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()), tel.GRPCDialOption())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return rec, srv, healthpb.NewHealthClient(conn)
}
