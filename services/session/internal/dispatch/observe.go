package dispatch

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ProviderCallObserver is told how each provider call ended: provider is the
// provider's name in the mesh, method the ProviderService method (CallTool,
// ReadResource, GetPrompt, Complete), outcome "ok", "tool_error" (a result with
// isError), "input_required", "no_result" (a tool call stream that ended without a
// result) or the gRPC code in snake case ("unavailable", "deadline_exceeded", ...).
type ProviderCallObserver func(ctx context.Context, provider, method, outcome string, elapsed time.Duration)

// observedConn times the calls made on a provider connection.
type observedConn struct {
	grpc.ClientConnInterface
	provider string
	observe  ProviderCallObserver
}

func (c observedConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	start := time.Now()
	err := c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
	c.observe(ctx, c.provider, shortMethod(method), callOutcome(err), time.Since(start))
	return err
}

func (c observedConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	start := time.Now()
	s, err := c.ClientConnInterface.NewStream(ctx, desc, method, opts...)
	if err != nil {
		c.observe(ctx, c.provider, shortMethod(method), callOutcome(err), time.Since(start))
		return nil, err
	}
	return &observedStream{ClientStream: s, ctx: ctx, conn: c, method: shortMethod(method), start: start}, nil
}

// observedStream reports a streamed call when its outcome is known: the dispatcher
// stops reading at the result, so the end of the stream may never be seen.
type observedStream struct {
	grpc.ClientStream
	ctx    context.Context
	conn   observedConn
	method string
	start  time.Time
	done   bool
}

func (s *observedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if s.done {
		return err
	}
	var outcome string
	switch {
	case errors.Is(err, io.EOF):
		outcome = "no_result"
	case err != nil:
		outcome = callOutcome(err)
	default:
		if r, ok := m.(*providerv1.CallToolResponse); ok {
			switch e := r.GetEvent().(type) {
			case *providerv1.CallToolResponse_Result:
				outcome = "ok"
				if e.Result.GetIsError() {
					outcome = "tool_error"
				}
			case *providerv1.CallToolResponse_InputRequired:
				outcome = "input_required"
			}
		}
	}
	if outcome != "" {
		s.done = true
		s.conn.observe(s.ctx, s.conn.provider, s.method, outcome, time.Since(s.start))
	}
	return err
}

// shortMethod turns "/pkg.Service/Method" into "Method".
func shortMethod(full string) string {
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// callOutcome is "ok" or the gRPC code of err in snake case.
func callOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	if name, ok := codeNames[status.Code(err)]; ok {
		return name
	}
	return "unknown"
}

var codeNames = map[codes.Code]string{
	codes.OK: "ok", codes.Canceled: "canceled", codes.Unknown: "unknown",
	codes.InvalidArgument: "invalid_argument", codes.DeadlineExceeded: "deadline_exceeded",
	codes.NotFound: "not_found", codes.AlreadyExists: "already_exists",
	codes.PermissionDenied: "permission_denied", codes.ResourceExhausted: "resource_exhausted",
	codes.FailedPrecondition: "failed_precondition", codes.Aborted: "aborted",
	codes.OutOfRange: "out_of_range", codes.Unimplemented: "unimplemented",
	codes.Internal: "internal", codes.Unavailable: "unavailable", codes.DataLoss: "data_loss",
	codes.Unauthenticated: "unauthenticated",
}
