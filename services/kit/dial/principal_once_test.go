package dial

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// TestPeerSendsThePrincipalOnce: a peer connection carries the caller's principal in
// exactly one metadata entry (a server refuses two as malformed).
func TestPeerSendsThePrincipalOnce(t *testing.T) {
	seen := make(chan []string, 1)
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		seen <- metadata.ValueFromIncomingContext(stream.Context(), principal.MetadataKey)
		var in emptypb.Empty
		_ = stream.RecvMsg(&in)
		return stream.SendMsg(&emptypb.Empty{})
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	d := New(nil)
	defer func() { _ = d.Close() }()
	conn, err := d.Peer(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(principal.NewContext(context.Background(),
		&principal.Principal{Subject: "alice", Issuer: "i", Method: principal.MethodOAuth}), 5*time.Second)
	defer cancel()
	if err := conn.Invoke(ctx, "/test.Service/Method", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; len(got) != 1 {
		t.Fatalf("%d principal entries, want 1", len(got))
	}
}
