package grpcserver

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/kit/virtualserver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// principalEcho answers with the subject of the principal its context carries.
type principalEcho struct {
	testgrpc.UnimplementedTestServiceServer
}

func subjectOf(ctx context.Context) string {
	vs := ""
	if name := virtualserver.FromContext(ctx); name != "" {
		vs = "@" + name
	}
	if p, ok := principal.FromContext(ctx); ok {
		return p.Subject + "/" + string(p.Method) + vs
	}
	return "<none>" + vs
}

func (principalEcho) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Username: subjectOf(ctx)}, nil
}

func (principalEcho) StreamingOutputCall(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	return stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: []byte(subjectOf(stream.Context()))}})
}

// The principal crosses a real gRPC hop (kit/dial sends it, the chain's auth-context
// step reads it) and an in-process hop (the context value itself), unary and streaming;
// so does the virtual server a request came through.
func TestPrincipalCrossesProcesses(t *testing.T) {
	s := New(Settings{Logger: slog.New(slog.DiscardHandler), DefaultDeadline: time.Second})
	s.Register(&testgrpc.TestService_ServiceDesc, principalEcho{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(lis) }()
	d := dial.New(s.InProcess())
	t.Cleanup(func() {
		_ = d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	network, err := d.Peer(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	inproc, _ := d.Peer(dial.InProcessScheme)
	alice := &principal.Principal{Subject: "alice", Issuer: "https://idp.example", Scopes: []string{"mcp:tools"}, Method: principal.MethodOAuth}

	for name, cc := range map[string]grpc.ClientConnInterface{"network": network, "in-process": inproc} {
		client := testgrpc.NewTestServiceClient(cc)
		for _, tc := range []struct {
			name string
			ctx  context.Context
			want string
		}{
			{"alice", principal.NewContext(context.Background(), alice), "alice/oauth"},
			{"anonymous", principal.NewContext(context.Background(), principal.Anonymous), "anonymous/anonymous"},
			{"none", context.Background(), "<none>"},
			{"alice through math", virtualserver.NewContext(principal.NewContext(context.Background(), alice), "math"), "alice/oauth@math"},
		} {
			ctx, cancel := context.WithTimeout(tc.ctx, 5*time.Second)
			resp, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
			if err != nil || resp.GetUsername() != tc.want {
				t.Errorf("%s unary %s: got %q, %v; want %q", name, tc.name, resp.GetUsername(), err, tc.want)
			}
			stream, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
			if err != nil {
				t.Fatal(err)
			}
			msg, err := stream.Recv()
			if err != nil || string(msg.GetPayload().GetBody()) != tc.want {
				t.Errorf("%s stream %s: got %q, %v; want %q", name, tc.name, msg.GetPayload().GetBody(), err, tc.want)
			}
			cancel()
		}
	}

	// A malformed entry from the network is refused Unauthenticated, unary and stream.
	raw := testgrpc.NewTestServiceClient(network)
	for _, bad := range []string{"{", `{"sub":"","method":"oauth"}`} {
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), principal.MetadataKey, bad), 5*time.Second)
		_, err := raw.UnaryCall(ctx, &testgrpc.SimpleRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("unary with principal %q: %v, want Unauthenticated", bad, err)
		}
		stream, err := raw.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("stream with principal %q: %v, want Unauthenticated", bad, err)
		}
		cancel()
	}
	// A malformed virtual server from the network is refused InvalidArgument.
	for _, bad := range [][]string{{"Math/.."}, {"a", "b"}} {
		ctx := context.Background()
		for _, v := range bad {
			ctx = metadata.AppendToOutgoingContext(ctx, virtualserver.MetadataKey, v)
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := raw.UnaryCall(ctx, &testgrpc.SimpleRequest{}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("unary with virtual server %q: %v, want InvalidArgument", bad, err)
		}
		cancel()
	}
}
