package grpcserver_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// seenPrincipal is a test service that records the principal of each call's context.
type seenPrincipal struct {
	testpb.UnimplementedTestServiceServer
	seen chan *principal.Principal
}

func (s *seenPrincipal) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	p, _ := principal.FromContext(ctx)
	s.seen <- p
	return &testpb.Empty{}, nil
}

func (s *seenPrincipal) StreamingOutputCall(_ *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	p, _ := principal.FromContext(stream.Context())
	s.seen <- p
	return stream.Send(&testpb.StreamingOutputCallResponse{})
}

// TestPrincipalCrossesProcesses: a peer connection sends the caller's principal and the
// server chain puts it into the handler's context, for unary calls and streams; a
// malformed entry is refused.
func TestPrincipalCrossesProcesses(t *testing.T) {
	srv := grpcserver.New(grpcserver.Settings{Logger: slog.New(slog.DiscardHandler)})
	hs := &seenPrincipal{seen: make(chan *principal.Principal, 4)}
	srv.Register(&testpb.TestService_ServiceDesc, hs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	d := dial.New(nil)
	t.Cleanup(func() { _ = d.Close() })
	conn, err := d.Peer(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := testpb.NewTestServiceClient(conn)
	alice := &principal.Principal{Subject: "alice", Issuer: "https://idp.example", Method: principal.MethodOAuth, Scopes: []string{"math"}}
	ctx, cancel := context.WithTimeout(principal.NewContext(context.Background(), alice), 5*time.Second)
	defer cancel()
	if _, err := client.EmptyCall(ctx, &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if p := <-hs.seen; p == nil || p.Key() != alice.Key() || !p.HasScope("math") {
		t.Fatalf("unary handler saw %+v", p)
	}
	stream, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if p := <-hs.seen; p == nil || p.Key() != alice.Key() {
		t.Fatalf("stream handler saw %+v", p)
	}
	// A raw client that sends a malformed entry.
	raw, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	bad := metadata.AppendToOutgoingContext(ctx, principal.MetadataKey, "{")
	if _, err := testpb.NewTestServiceClient(raw).EmptyCall(bad, &testpb.Empty{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("malformed principal: %v", err)
	}
	// Without a principal the handler sees none.
	if _, err := testpb.NewTestServiceClient(raw).EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if p := <-hs.seen; p != nil {
		t.Fatalf("saw %+v without a principal", p)
	}
}
