package provider

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// serveOn serves srv with Serve on loopback until the test ends and returns a
// connection to it.
func serveOn(t *testing.T, srv *Server, opts ServeOptions) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, lis, opts) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return conn
}

// serve builds a provider of features and returns a client of it.
func serve(t *testing.T, opts Options, features ...Feature) (providerv1.ProviderServiceClient, *Server) {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "test"
	}
	srv, err := New(opts, features...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return providerv1.NewProviderServiceClient(serveOn(t, srv, ServeOptions{})), srv
}

// callTool runs a tool and collects every event of its stream.
func callTool(ctx context.Context, c providerv1.ProviderServiceClient, req *providerv1.CallToolRequest) ([]*providerv1.CallToolResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := c.CallTool(ctx, req)
	if err != nil {
		return nil, err
	}
	var events []*providerv1.CallToolResponse
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, ev)
	}
}

// timeAfterShort paces retries in tests that wait for a subscription to take effect.
func timeAfterShort() <-chan time.Time { return time.After(20 * time.Millisecond) }
