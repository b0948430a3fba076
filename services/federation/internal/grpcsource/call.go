package grpcsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/errorid"
)

// CallTool calls the tool's method: the arguments become the request message, the
// response (or, for a server-streaming method, every message, each also reported as
// progress) becomes the result. A gRPC error of the service is a tool error carrying
// its code and message.
func (s *Source) CallTool(req *providerv1.CallToolRequest, stream grpc.ServerStreamingServer[providerv1.CallToolResponse]) error {
	ctx := stream.Context()
	t, c, err := s.lookup(req.GetName())
	if err != nil {
		return err
	}
	in := dynamicpb.NewMessage(t.method.Input())
	args := req.GetArguments()
	if len(args) == 0 {
		args = []byte("{}")
	}
	if err := (protojson.UnmarshalOptions{Resolver: c.set.Types}).Unmarshal(args, in); err != nil {
		return sendResult(stream, errorResult(fmt.Sprintf("invalid arguments for %s: %v", req.GetName(), err)))
	}
	callCtx, cancel := s.callContext(ctx)
	defer cancel()
	var result *mcpv1.ToolResult
	if t.method.IsStreamingServer() {
		result, err = s.callStream(callCtx, t, c, in, newEmitter(stream, req.GetContext(), req.GetName()))
	} else {
		result, err = s.callUnary(callCtx, t, c, in)
	}
	if err != nil {
		if ctx.Err() != nil {
			// The caller left: nobody reads a result.
			return status.FromContextError(ctx.Err()).Err()
		}
		result = s.failed(ctx, req.GetName(), err)
	}
	return sendResult(stream, result)
}

// callContext bounds the call by the source's timeout (within the mesh's deadline,
// which ctx carries) and replaces whatever outgoing metadata ctx has with the
// source's own: nothing of the caller's (neither its token nor the mesh's principal)
// reaches the service. gRPC sends the deadline as grpc-timeout.
func (s *Source) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.settings.Timeout)
	return metadata.NewOutgoingContext(ctx, s.outgoing.Copy()), cancel
}

func (s *Source) callUnary(ctx context.Context, t *tool, c *catalogue, in proto.Message) (*mcpv1.ToolResult, error) {
	out := dynamicpb.NewMessage(t.method.Output())
	if err := s.conn.Invoke(ctx, t.path, in, out); err != nil {
		return nil, err
	}
	body, err := marshal(c, out)
	if err != nil {
		return nil, err
	}
	return jsonResult(body, t.structured), nil
}

// callStream reads a server stream to its end (or to max_stream_messages or
// max_stream_bytes), reporting each message as it comes, and returns them all.
func (s *Source) callStream(ctx context.Context, t *tool, c *catalogue, in proto.Message, emit *emitter) (*mcpv1.ToolResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream when it is cut short
	cs, err := s.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, t.path)
	if err != nil {
		return nil, err
	}
	if err := cs.SendMsg(in); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := cs.CloseSend(); err != nil {
		return nil, err
	}
	messages := []json.RawMessage{}
	truncated, size := false, 0
	for {
		out := dynamicpb.NewMessage(t.method.Output())
		err := cs.RecvMsg(out)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(messages) == s.settings.MaxStreamMessages {
			truncated = true
			break
		}
		body, err := marshal(c, out)
		if err != nil {
			return nil, err
		}
		if size += len(body); size > s.settings.MaxStreamBytes {
			truncated = true
			break
		}
		messages = append(messages, body)
		if err := emit.message(ctx, len(messages), body); err != nil {
			return nil, err
		}
	}
	body, err := json.Marshal(map[string]any{"messages": messages, "truncated": truncated})
	if err != nil {
		return nil, fmt.Errorf("encode stream result: %w", err)
	}
	return jsonResult(body, true), nil
}

// marshal writes a message as protojson, with default values (so that a zero count
// reads 0, not missing); unset messages stay out. protojson varies its whitespace on
// purpose; compacting makes the text the same for the same message.
func marshal(c *catalogue, m proto.Message) (json.RawMessage, error) {
	b, err := (protojson.MarshalOptions{Resolver: c.set.Types, EmitDefaultValues: true}).Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return out.Bytes(), nil
}

// failed turns a failed call into a tool error. The service's status code and message
// are the caller's to see; Unavailable is not, because gRPC writes it for connection
// failures too, with addresses and transport detail: that text goes to the log under
// an error id.
func (s *Source) failed(ctx context.Context, tool string, err error) *mcpv1.ToolResult {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Unavailable:
		id := errorid.New()
		s.logger.WarnContext(ctx, "gRPC service unavailable", "tool", tool, "error", err, "error_id", id)
		return errorResult(errorid.Append(fmt.Sprintf("the gRPC service %s is unavailable", s.settings.Name), id))
	case codes.Unimplemented:
		// The method may be gone: read the descriptors again.
		s.reloadSoon()
	}
	msg := st.Message()
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage] + "…"
	}
	return errorResult(fmt.Sprintf("%s: %s", codeName(st.Code()), msg))
}

// maxErrorMessage bounds the status message copied into a tool error.
const maxErrorMessage = 2000

// codeNames are the canonical upper-case names of the codes (NOT_FOUND), as gRPC
// documents them; codes.Code.String gives the Go names (NotFound).
var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN", codes.InvalidArgument: "INVALID_ARGUMENT",
	codes.DeadlineExceeded: "DEADLINE_EXCEEDED", codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED", codes.OutOfRange: "OUT_OF_RANGE",
	codes.Unimplemented: "UNIMPLEMENTED", codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE",
	codes.DataLoss: "DATA_LOSS", codes.Unauthenticated: "UNAUTHENTICATED",
}

func codeName(c codes.Code) string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return c.String()
}
