package grpcserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testService runs unary on EmptyCall and blocks StreamingOutputCall until release
// is closed or the stream ends.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
	unary   func(ctx context.Context) error
	started chan struct{}
	release chan struct{}
}

func (s *testService) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	return &testgrpc.Empty{}, nil
}

func (s *testService) StreamingOutputCall(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	close(s.started)
	select {
	case <-s.release:
	case <-stream.Context().Done():
	}
	return nil
}

// serve starts a Server with impl on loopback and returns it with a client connection.
func serve(t *testing.T, impl testgrpc.TestServiceServer) (*Server, *grpc.ClientConn) {
	t.Helper()
	s := New(Settings{Logger: slog.New(slog.DiscardHandler), DefaultDeadline: time.Second})
	s.Register(&testgrpc.TestService_ServiceDesc, impl)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, conn
}

func TestInterceptorChain(t *testing.T) {
	tests := []struct {
		name     string
		unary    func(ctx context.Context) error
		wantCode codes.Code
		wantMsg  string
		hidden   string
	}{
		{"ok", func(context.Context) error { return nil }, codes.OK, "", ""},
		{"panic becomes Internal", func(context.Context) error { panic("secret panic detail") }, codes.Internal, "internal error (id ", "secret"},
		{"plain error is masked", func(context.Context) error { return errors.New("dial 10.0.0.7: secret") }, codes.Internal, "internal error (id ", "10.0.0.7"},
		{"status passes through", func(context.Context) error { return status.Error(codes.NotFound, "session s1 not found") }, codes.NotFound, "session s1 not found", ""},
		{"context canceled keeps its meaning", func(context.Context) error { return context.Canceled }, codes.Canceled, "canceled", ""},
		{"default deadline is set", func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return status.Error(codes.FailedPrecondition, "no deadline")
			}
			return nil
		}, codes.OK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, conn := serve(t, &testService{unary: tt.unary})
			for name, cc := range map[string]grpc.ClientConnInterface{"network": conn, "in-process": s.InProcess()} {
				_, err := testgrpc.NewTestServiceClient(cc).EmptyCall(context.Background(), &testgrpc.Empty{})
				st := status.Convert(err)
				if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
					t.Errorf("%s: got %v %q, want %v containing %q", name, st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
				}
				if tt.hidden != "" && strings.Contains(st.Message(), tt.hidden) {
					t.Errorf("%s: internal detail %q reached the caller: %q", name, tt.hidden, st.Message())
				}
			}
		})
	}
}

func TestHealthAndShutdown(t *testing.T) {
	svc := &testService{unary: func(context.Context) error { return nil }, started: make(chan struct{}), release: make(chan struct{})}
	s, conn := serve(t, svc)
	health := healthpb.NewHealthClient(conn)
	resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: testgrpc.TestService_ServiceDesc.ServiceName})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health of a registered service: %v %v", resp, err)
	}

	// A stream that never ends by itself must not hold the shutdown beyond its timer.
	stream, err := testgrpc.NewTestServiceClient(conn).StreamingOutputCall(context.Background(), &testgrpc.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	<-svc.started
	s.SetNotServing()
	resp, err = health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: testgrpc.TestService_ServiceDesc.ServiceName})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after SetNotServing: %v %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s.Shutdown(ctx) // returns after the hard stop, not never
	if _, err := stream.Recv(); err == nil {
		t.Error("the stream survived a hard stop")
	}
	close(svc.release)
}
