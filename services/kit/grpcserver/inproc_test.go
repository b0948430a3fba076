package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

// inprocService is a TestService whose methods the tests fill in.
type inprocService struct {
	testgrpc.UnimplementedTestServiceServer
	unaryCall func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error)
	streamOut func(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error
}

func (s *inprocService) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return s.unaryCall(ctx, req)
}

func (s *inprocService) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	return s.streamOut(req, stream)
}

// StreamingInputCall sums the sizes of the payloads it receives.
func (s *inprocService) StreamingInputCall(stream grpc.ClientStreamingServer[testgrpc.StreamingInputCallRequest, testgrpc.StreamingInputCallResponse]) error {
	total := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&testgrpc.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
		}
		if err != nil {
			return err
		}
		total += len(req.GetPayload().GetBody())
	}
}

// FullDuplexCall echoes each request's payload.
func (s *inprocService) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: req.GetPayload()}); err != nil {
			return err
		}
	}
}

// inprocClient registers svc on a Server that never serves the network and returns
// a client on its in-process channel.
func inprocClient(tb testing.TB, svc *inprocService) testgrpc.TestServiceClient {
	tb.Helper()
	s := newTestServer(tb)
	s.Register(&testgrpc.TestService_ServiceDesc, svc)
	return testgrpc.NewTestServiceClient(s.InProcess())
}

// newTestServer is a Server that is shut down when the test ends (its network
// server has stream workers even when it never serves).
func newTestServer(tb testing.TB) *Server {
	s := New(Settings{Logger: slog.New(slog.DiscardHandler), DefaultDeadline: time.Minute})
	tb.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

func payload(s string) *testgrpc.Payload { return &testgrpc.Payload{Body: []byte(s)} }

func TestInProcessUnary(t *testing.T) {
	var got *testgrpc.SimpleRequest
	var gotCtx context.Context
	sent := &testgrpc.SimpleResponse{Payload: payload("pong"), Username: "u"}
	c := inprocClient(t, &inprocService{unaryCall: func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
		got, gotCtx = req, ctx
		if _, ok := ctx.Deadline(); !ok {
			return nil, status.Error(codes.FailedPrecondition, "no default deadline")
		}
		return sent, nil
	}})
	req := &testgrpc.SimpleRequest{Payload: payload("ping"), ResponseSize: 7}
	resp, err := c.UnaryCall(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, req) || !proto.Equal(resp, sent) {
		t.Fatalf("handler got %v (sent %v); caller got %v (handler returned %v)", got, req, resp, sent)
	}
	// Handed over, not copied: both ends share the nested messages.
	if got.GetPayload() != req.GetPayload() || resp.GetPayload() != sent.GetPayload() {
		t.Error("the in-process channel copied a message; it should hand it over")
	}
	if gotCtx.Err() == nil {
		t.Error("the handler's context is still live after the call ended")
	}
}

func TestInProcessServerStream(t *testing.T) {
	const n = 3 * streamBuffer // more than the buffer holds: the handler must wait for the reader
	c := inprocClient(t, &inprocService{streamOut: func(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
		for i := range n {
			if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: payload(fmt.Sprintf("%s-%d", req.GetPayload().GetBody(), i))}); err != nil {
				return err
			}
		}
		return nil
	}})
	stream, err := c.StreamingOutputCall(context.Background(), &testgrpc.StreamingOutputCallRequest{Payload: payload("m")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := fmt.Sprintf("m-%d", i); string(resp.GetPayload().GetBody()) != want {
			t.Fatalf("message %d = %q, want %q", i, resp.GetPayload().GetBody(), want)
		}
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

func TestInProcessClientAndBidiStreams(t *testing.T) {
	c := inprocClient(t, &inprocService{})
	up, err := c.StreamingInputCall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ab", "cde", ""} {
		if err := up.Send(&testgrpc.StreamingInputCallRequest{Payload: payload(s)}); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := up.CloseAndRecv()
	if err != nil || sum.GetAggregatedPayloadSize() != 5 {
		t.Fatalf("client stream: %v %v, want size 5", sum, err)
	}

	bidi, err := c.FullDuplexCall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"x", "y"} {
		if err := bidi.Send(&testgrpc.StreamingOutputCallRequest{Payload: payload(s)}); err != nil {
			t.Fatal(err)
		}
		resp, err := bidi.Recv()
		if err != nil || string(resp.GetPayload().GetBody()) != s {
			t.Fatalf("bidi echo of %q: %v %v", s, resp, err)
		}
	}
	if err := bidi.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := bidi.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi after CloseSend: %v, want io.EOF", err)
	}
}

// waitForCancel is a stream handler that reports its context and waits for it to end.
func waitForCancel(started chan<- context.Context) func(*testgrpc.StreamingOutputCallRequest, grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	return func(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
		started <- stream.Context()
		<-stream.Context().Done()
		return stream.Context().Err()
	}
}

func TestInProcessCancellation(t *testing.T) {
	t.Run("client cancel reaches the handler", func(t *testing.T) {
		started := make(chan context.Context, 1)
		c := inprocClient(t, &inprocService{streamOut: waitForCancel(started)})
		ctx, cancel := context.WithCancel(context.Background())
		stream, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
		if err != nil {
			t.Fatal(err)
		}
		serverCtx := <-started
		cancel()
		if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
			t.Fatalf("Recv after cancel: %v, want Canceled", err)
		}
		<-serverCtx.Done() // the handler saw it (or this test times out)
	})
	t.Run("handler end cancels its context", func(t *testing.T) {
		ctxs := make(chan context.Context, 1)
		c := inprocClient(t, &inprocService{streamOut: func(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
			ctxs <- stream.Context()
			return nil
		}})
		stream, err := c.StreamingOutputCall(context.Background(), &testgrpc.StreamingOutputCallRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			t.Fatalf("Recv: %v, want io.EOF", err)
		}
		<-(<-ctxs).Done() // calls the handler made on its context end with it
	})
	t.Run("an abandoned stream does not block its handler for ever", func(t *testing.T) {
		done := make(chan error, 1)
		c := inprocClient(t, &inprocService{streamOut: func(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
			for {
				if err := stream.Send(&testgrpc.StreamingOutputCallResponse{}); err != nil {
					done <- err
					return err
				}
			}
		}})
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{}); err != nil {
			t.Fatal(err)
		}
		cancel() // the caller never reads
		if err := <-done; status.Code(err) != codes.Canceled {
			t.Fatalf("handler Send after the caller left: %v, want Canceled", err)
		}
	})
	t.Run("a cancelled context fails the call before the handler", func(t *testing.T) {
		calls := 0
		c := inprocClient(t, &inprocService{unaryCall: func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
			calls++
			return &testgrpc.SimpleResponse{}, nil
		}})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{}); status.Code(err) != codes.Canceled || calls != 0 {
			t.Fatalf("got %v after %d handler calls, want Canceled and none", err, calls)
		}
		if _, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{}); status.Code(err) != codes.Canceled {
			t.Fatalf("stream: got %v, want Canceled", err)
		}
	})
}

func TestInProcessDeadline(t *testing.T) {
	started := make(chan context.Context, 1)
	c := inprocClient(t, &inprocService{
		streamOut: waitForCancel(started),
		unaryCall: func(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	deadline := time.Now().Add(20 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{}); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("unary past its deadline: %v, want DeadlineExceeded", err)
	}
	ctx2, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	defer cancel2()
	stream, err := c.StreamingOutputCall(ctx2, &testgrpc.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := (<-started).Deadline(); !ok || d.After(deadline.Add(time.Second)) {
		t.Errorf("the handler's context has deadline %v %v, want the caller's", d, ok)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("stream past its deadline: %v, want DeadlineExceeded", err)
	}
}

func TestInProcessErrors(t *testing.T) {
	tests := []struct {
		name     string
		fail     func() error
		wantCode codes.Code
		wantMsg  string
		hidden   string
	}{
		{"status passes through", func() error { return status.Error(codes.NotFound, "tool x not found") }, codes.NotFound, "tool x not found", ""},
		{"plain error is masked", func() error { return errors.New("dial 10.0.0.7: refused") }, codes.Internal, "internal error (id ", "10.0.0.7"},
		{"panic becomes Internal", func() error { panic("secret panic detail") }, codes.Internal, "internal error (id ", "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := inprocClient(t, &inprocService{
				unaryCall: func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
					return nil, tt.fail()
				},
				streamOut: func(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
					if err := stream.Send(&testgrpc.StreamingOutputCallResponse{}); err != nil {
						return err
					}
					return tt.fail()
				},
			})
			_, unaryErr := c.UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
			stream, err := c.StreamingOutputCall(context.Background(), &testgrpc.StreamingOutputCallRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				t.Fatalf("the message sent before the failure: %v", err)
			}
			_, streamErr := stream.Recv()
			for kind, err := range map[string]error{"unary": unaryErr, "stream": streamErr} {
				st, ok := status.FromError(err)
				if !ok || st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
					t.Errorf("%s: got %v, want %v containing %q", kind, err, tt.wantCode, tt.wantMsg)
				}
				if tt.hidden != "" && strings.Contains(st.Message(), tt.hidden) {
					t.Errorf("%s: internal detail %q reached the caller", kind, tt.hidden)
				}
			}
		})
	}
}

func TestInProcessUnknownMethodAndMetadata(t *testing.T) {
	c := inprocClient(t, &inprocService{unaryCall: func(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		return &testgrpc.SimpleResponse{Username: strings.Join(md.Get("x-user"), ",")}, nil
	}})
	if _, err := c.UnimplementedCall(context.Background(), &testgrpc.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("unimplemented method: %v, want Unimplemented", err)
	}
	s := newTestServer(t)
	if err := s.InProcess().Invoke(context.Background(), "/no.Such/Method", &testgrpc.Empty{}, &testgrpc.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown service: %v, want Unimplemented", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-user", "ada")
	resp, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{})
	if err != nil || resp.GetUsername() != "ada" {
		t.Errorf("outgoing metadata as incoming: %v %v, want ada", resp, err)
	}
}

func TestMoveMessage(t *testing.T) {
	src := &testgrpc.SimpleRequest{Payload: payload("p"), ResponseSize: 3}
	var dst testgrpc.SimpleRequest
	if err := moveMessage(&dst, src); err != nil || !proto.Equal(&dst, src) || dst.Payload != src.Payload {
		t.Errorf("same type: %v %v, want a shallow copy of %v", &dst, err, src)
	}

	// Another Go type of the same message gets a deep copy.
	dyn := dynamicpb.NewMessage(src.ProtoReflect().Descriptor())
	if err := moveMessage(dyn, src); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dyn, src) {
		t.Errorf("dynamic copy differs: %v vs %v", dyn, src)
	}

	filled := &testgrpc.SimpleRequest{ResponseSize: 9}
	if err := moveMessage(filled, (*testgrpc.SimpleRequest)(nil)); err != nil || !proto.Equal(filled, &testgrpc.SimpleRequest{}) {
		t.Errorf("nil message: %v %v, want an empty message", filled, err)
	}

	if err := moveMessage(&testgrpc.Empty{}, src); status.Code(err) != codes.Internal {
		t.Errorf("different messages: %v, want Internal", err)
	}
}

func TestRegisterRejectsWrongImplementation(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering an implementation of the wrong interface did not panic")
		}
	}()
	newInprocChannel(nil, nil, InProcessTelemetry{}).RegisterService(&testgrpc.TestService_ServiceDesc, struct{}{})
}

// BenchmarkInProcess measures what one in-process call costs the mesh: a unary call
// and a server stream of one message, through the whole interceptor chain.
func BenchmarkInProcess(b *testing.B) {
	resp := &testgrpc.SimpleResponse{Payload: payload("pong")}
	c := inprocClient(b, &inprocService{
		unaryCall: func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) { return resp, nil },
		streamOut: func(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
			return stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: resp.Payload})
		},
	})
	ctx, cancel := context.WithCancel(context.Background()) // as the gateway's request context
	defer cancel()
	b.Run("unary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("server-stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			stream, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if !errors.Is(err, io.EOF) {
						b.Fatal(err)
					}
					break
				}
			}
		}
	})
}
