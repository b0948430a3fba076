package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/rpcstatus"
)

// The ProviderService of one upstream: each method checks the name against the
// upstream's prefix and filters, then makes the same request upstream through the
// upstream's breaker and timeout.

var _ providerv1.ProviderServiceServer = (*upstream)(nil)

// Describe lists the upstream's catalogue, every page of it, filtered and renamed.
func (u *upstream) Describe(ctx context.Context, _ *providerv1.DescribeRequest) (*providerv1.DescribeResponse, error) {
	var cat *mcpv1.Catalogue
	var init *mcp.InitializeResult
	err := u.guard(ctx, func(ctx context.Context, s *mcp.ClientSession) error {
		init = s.InitializeResult()
		var err error
		cat, err = u.catalogue(ctx, s)
		return err
	})
	if err != nil {
		return nil, u.status(ctx, "describe", err)
	}
	d := &providerv1.DescribeResponse{Name: u.cfg.Name, Instructions: init.Instructions, Catalogue: cat}
	if init.ServerInfo != nil {
		d.Version = init.ServerInfo.Version
	}
	return d, nil
}

func (u *upstream) catalogue(ctx context.Context, s *mcp.ClientSession) (*mcpv1.Catalogue, error) {
	caps := s.InitializeResult().Capabilities
	if caps == nil {
		caps = &mcp.ServerCapabilities{}
	}
	cat := &mcpv1.Catalogue{}
	if caps.Tools != nil {
		for t, err := range s.Tools(ctx, nil) {
			if err != nil {
				return nil, fmt.Errorf("list tools: %w", err)
			}
			if !u.cfg.Tools.keeps(t.Name) {
				continue
			}
			w, err := rewire[wireTool](t)
			if err != nil {
				return nil, err
			}
			cat.Tools = append(cat.Tools, toolProto(w, u.cfg.exposed(t.Name)))
		}
	}
	if caps.Resources != nil {
		for r, err := range s.Resources(ctx, nil) {
			if err != nil {
				return nil, fmt.Errorf("list resources: %w", err)
			}
			if !u.cfg.Resources.keeps(r.URI) {
				continue
			}
			w, err := rewire[wireResource](r)
			if err != nil {
				return nil, err
			}
			cat.Resources = append(cat.Resources, resourceProto(w))
		}
		for r, err := range s.ResourceTemplates(ctx, nil) {
			if err != nil {
				return nil, fmt.Errorf("list resource templates: %w", err)
			}
			if !u.cfg.Resources.keeps(r.URITemplate) {
				continue
			}
			w, err := rewire[wireResource](r)
			if err != nil {
				return nil, err
			}
			cat.ResourceTemplates = append(cat.ResourceTemplates, templateProto(w))
		}
	}
	if caps.Prompts != nil {
		for p, err := range s.Prompts(ctx, nil) {
			if err != nil {
				return nil, fmt.Errorf("list prompts: %w", err)
			}
			if !u.cfg.Prompts.keeps(p.Name) {
				continue
			}
			w, err := rewire[wirePrompt](p)
			if err != nil {
				return nil, err
			}
			cat.Prompts = append(cat.Prompts, promptProto(w, u.cfg.exposed(p.Name)))
		}
	}
	return cat, nil
}

// CallTool calls the tool upstream, forwarding its progress and log messages, and
// cancelling it upstream when the mesh's call ends first. An upstream's request for
// client input ends the stream with input_required; the mesh's retry with the answers
// and the request state calls a 2026-07-28 upstream again, or resumes the waiting call
// of an earlier generation's (relay.go).
func (u *upstream) CallTool(req *providerv1.CallToolRequest, stream grpc.ServerStreamingServer[providerv1.CallToolResponse]) error {
	ctx := stream.Context()
	name, ok := u.cfg.upstreamName(req.GetName())
	if !ok || !u.cfg.Tools.keeps(name) {
		return status.Errorf(codes.NotFound, "unknown tool %q", req.GetName())
	}
	what := "tool " + name
	var retry *retryState
	if state := req.GetContext().GetRequestState(); isRetryState(state) {
		var err error
		if retry, err = u.retryOf(what, req.GetContext(), "Call the tool again"); err != nil {
			return err
		}
	} else if len(state) > 0 {
		fc := u.resume(what, req.GetContext(), stream.Send)
		if fc == nil {
			return sendIgnoringEOF(stream, toolError(u.notPending("Call the tool again")))
		}
		return u.followTool(ctx, fc, stream)
	}
	params := &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(`{}`)}
	if args := req.GetArguments(); len(args) > 0 {
		params.Arguments = json.RawMessage(args)
	}
	sink, done := u.openSink(req.GetContext(), stream.Send)
	if sink.logLevel != "" {
		// The stateless generation asks for log messages per request.
		params.Meta = mcp.Meta{mcp.MetaKeyLogLevel: sink.logLevel} //nolint:staticcheck // logging is deprecated, not gone
	}
	if sink.token != "" {
		params.SetProgressToken(sink.token)
	}
	send := func(ctx context.Context, s *mcp.ClientSession, meta mcp.Meta, responses mcp.InputResponseMap, state string) (mcp.Result, error) {
		p := *params
		p.Meta, p.InputResponses, p.RequestState = meta, responses, state
		res, err := s.CallTool(ctx, &p)
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	return u.followTool(ctx, u.startCall(ctx, what, req.GetContext(), params.Meta, sink, done, send, retry), stream)
}

// followTool streams a forwarded tool call's progress and log messages and then its
// result, or ends the stream with input_required when the upstream asks for input.
func (u *upstream) followTool(ctx context.Context, fc *forwardedCall, stream grpc.ServerStreamingServer[providerv1.CallToolResponse]) error {
	ir, err := u.await(ctx, fc)
	if err != nil {
		if fc.failedToOpenCallerSession() {
			// The session service shows a provider's failure only as "returned an
			// error": the caller learns why from a tool error.
			return sendIgnoringEOF(stream, toolError(status.Convert(err).Message()))
		}
		return err
	}
	if ir != nil {
		if err := stream.Send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_InputRequired{InputRequired: ir}}); err != nil {
			fc.cancel() // nobody will answer
			return err
		}
		return nil
	}
	w, err := rewire[wireToolResult](fc.res)
	if err != nil {
		return u.status(ctx, fc.what, err)
	}
	return sendIgnoringEOF(stream, &providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: toolResultProto(w)}})
}

// sendIgnoringEOF sends the call's last message; a client that went away meanwhile is
// no error of the provider's.
func sendIgnoringEOF(stream grpc.ServerStreamingServer[providerv1.CallToolResponse], resp *providerv1.CallToolResponse) error {
	if err := stream.Send(resp); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ReadResource reads a resource upstream.
func (u *upstream) ReadResource(ctx context.Context, req *providerv1.ReadResourceRequest) (*providerv1.ReadResourceResponse, error) {
	if !u.cfg.Resources.keeps(req.GetUri()) {
		return nil, status.Errorf(codes.NotFound, "unknown resource %q", req.GetUri())
	}
	var res *mcp.ReadResourceResult
	err := u.guard(ctx, func(ctx context.Context, s *mcp.ClientSession) error {
		var err error
		res, err = s.ReadResource(ctx, &mcp.ReadResourceParams{URI: req.GetUri()})
		return err
	})
	if err != nil {
		return nil, u.status(ctx, "resource "+req.GetUri(), err)
	}
	contents, err := json.Marshal(res.Contents)
	if err != nil {
		return nil, u.status(ctx, "resource "+req.GetUri(), err)
	}
	return &providerv1.ReadResourceResponse{Contents: contents, Meta: metaJSON(res.Meta)}, nil
}

// GetPrompt renders a prompt upstream. An upstream's request for client input is
// answered with input_required, as for a tool call; the mesh's retry with the answers
// and the request state gets the prompt from a 2026-07-28 upstream again, or resumes
// the waiting prompts/get of an earlier generation's (relay.go).
func (u *upstream) GetPrompt(ctx context.Context, req *providerv1.GetPromptRequest) (*providerv1.GetPromptResponse, error) {
	name, ok := u.cfg.upstreamName(req.GetName())
	if !ok || !u.cfg.Prompts.keeps(name) {
		return nil, status.Errorf(codes.NotFound, "unknown prompt %q", req.GetName())
	}
	what := "prompt " + name
	var fc *forwardedCall
	var retry *retryState
	if state := req.GetContext().GetRequestState(); isRetryState(state) {
		var err error
		if retry, err = u.retryOf(what, req.GetContext(), "Get the prompt again"); err != nil {
			return nil, err
		}
	} else if len(state) > 0 {
		if fc = u.resume(what, req.GetContext(), nil); fc == nil {
			return nil, status.Error(codes.InvalidArgument, u.notPending("Get the prompt again"))
		}
	}
	if fc == nil {
		args := req.GetArguments()
		send := func(ctx context.Context, s *mcp.ClientSession, meta mcp.Meta, responses mcp.InputResponseMap, state string) (mcp.Result, error) {
			res, err := s.GetPrompt(ctx, &mcp.GetPromptParams{Name: name, Arguments: args, Meta: meta, InputResponses: responses, RequestState: state})
			if err != nil {
				return nil, err
			}
			return res, nil
		}
		// A prompt has no progress or log messages to forward: its sink stays closed.
		fc = u.startCall(ctx, what, req.GetContext(), nil, &callSink{}, func() {}, send, retry)
	}
	ir, err := u.await(ctx, fc)
	if err != nil {
		return nil, err
	}
	if ir != nil {
		return &providerv1.GetPromptResponse{InputRequired: ir}, nil
	}
	res, _ := fc.res.(*mcp.GetPromptResult)
	if res == nil {
		return nil, u.status(ctx, what, fmt.Errorf("result %T", fc.res))
	}
	messages, err := json.Marshal(res.Messages)
	if err != nil {
		return nil, u.status(ctx, what, err)
	}
	return &providerv1.GetPromptResponse{Description: res.Description, Messages: messages, Meta: metaJSON(res.Meta)}, nil
}

// Complete asks the upstream for completions, with a prompt reference renamed to
// the upstream's own name.
func (u *upstream) Complete(ctx context.Context, req *providerv1.CompleteRequest) (*providerv1.CompleteResponse, error) {
	var ref mcp.CompleteReference
	if err := json.Unmarshal(req.GetRef(), &ref); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "completion reference: %v", err)
	}
	if ref.Type == "ref/prompt" {
		name, ok := u.cfg.upstreamName(ref.Name)
		if !ok || !u.cfg.Prompts.keeps(name) {
			return nil, status.Errorf(codes.NotFound, "unknown prompt %q", ref.Name)
		}
		ref.Name = name
	}
	params := &mcp.CompleteParams{Ref: &ref, Argument: mcp.CompleteParamsArgument{Name: req.GetArgumentName(), Value: req.GetArgumentValue()}}
	if args := req.GetContextArguments(); len(args) > 0 {
		params.Context = &mcp.CompleteContext{Arguments: args}
	}
	var res *mcp.CompleteResult
	err := u.guard(ctx, func(ctx context.Context, s *mcp.ClientSession) error {
		var err error
		res, err = s.Complete(ctx, params)
		return err
	})
	if err != nil {
		return nil, u.status(ctx, "completion", err)
	}
	c := res.Completion
	return &providerv1.CompleteResponse{Values: c.Values, Total: int32(min(c.Total, 1<<31-1)), HasMore: c.HasMore}, nil //nolint:gosec // bounded above
}

// guard runs one upstream request on the live session it goes over (currentFor),
// through the upstream's breaker and within its timeout.
func (u *upstream) guard(ctx context.Context, fn func(context.Context, *mcp.ClientSession) error) error {
	return u.guardConn(ctx, func(ctx context.Context, c upstreamConn) error { return fn(ctx, c.session) })
}

// guardConn is guard with the connection. A request the upstream refused because it
// no longer knows the caller's session it was made on (404: the session expired, or
// the upstream restarted) never ran there: it is made once more, on a new session of
// the caller.
func (u *upstream) guardConn(ctx context.Context, fn func(context.Context, upstreamConn) error) error {
	if _, err := u.current(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout())
	defer cancel()
	return u.breakers.Do(ctx, u.cfg.Name, func() error {
		for attempt := 0; ; attempt++ {
			c, release, err := u.currentFor(ctx)
			if err != nil {
				return err
			}
			refused := &refusals{}
			err = fn(watchRefusals(ctx, refused), c)
			release()
			if err == nil || c.caller == nil || attempt > 0 || refused.status.Load() != http.StatusNotFound || ctx.Err() != nil {
				return err
			}
			c.caller.pool.discard(c.caller)
			u.logger.InfoContext(ctx, "the upstream no longer knows the caller's session; making the request again on a new one", "error", err)
		}
	})
}

// upstreamAnswered tells an error the upstream sent (it is up, the request was
// wrong or failed there, or it refused a caller's session) from a failure to reach
// it, which the breaker counts.
func upstreamAnswered(err error) bool {
	var rpcErr *jsonrpc.Error
	var refused *callerSessionError
	return errors.As(err, &rpcErr) || (errors.As(err, &refused) && refused.refused != 0)
}

// status maps an upstream failure to the gRPC code the session service expects of a
// provider: the upstream's own JSON-RPC errors keep their meaning and message.
func (u *upstream) status(ctx context.Context, what string, err error) error {
	var rpcErr *jsonrpc.Error
	switch {
	case errors.As(err, &rpcErr):
		switch rpcErr.Code {
		case jsonrpc.CodeInvalidParams, jsonrpc.CodeMethodNotFound:
			if isNotFound(rpcErr.Message) {
				return status.Errorf(codes.NotFound, "%s: %s", what, rpcErr.Message)
			}
			return status.Errorf(codes.InvalidArgument, "%s", rpcErr.Message)
		case codeResourceNotFound:
			return status.Errorf(codes.NotFound, "%s: %s", what, rpcErr.Message)
		case mcpproto.CodeMissingClientCapability:
			// The caller did not declare what the upstream needs (the federation passes
			// the caller's capabilities in the request's _meta): the session answers the
			// client with the upstream's code, message and data (kit/rpcstatus).
			return rpcstatus.Error(codes.FailedPrecondition, "MISSING_CLIENT_CAPABILITY", int(rpcErr.Code), rpcErr.Message, rpcErr.Data)
		}
		u.logger.WarnContext(ctx, "upstream returned an error", "request", what, "code", rpcErr.Code, "error", rpcErr.Message)
		return status.Errorf(codes.Internal, "%s: upstream %s failed: %s", what, u.cfg.Name, rpcErr.Message)
	case errors.As(err, new(*callerSessionError)):
		return status.Errorf(codes.Unavailable, "%s: upstream %s: %v", what, u.cfg.Name, err)
	case errors.Is(err, breaker.ErrOpen):
		return status.Errorf(codes.Unavailable, "%s: upstream %s is failing; its circuit breaker is open", what, u.cfg.Name)
	case errors.Is(err, errDisconnected):
		return status.Errorf(codes.Unavailable, "%s: upstream %s is not connected", what, u.cfg.Name)
	case errors.Is(err, context.DeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "%s: upstream %s did not answer in time", what, u.cfg.Name)
	case errors.Is(err, context.Canceled):
		return status.FromContextError(err).Err()
	}
	u.logger.WarnContext(ctx, "upstream request failed", "request", what, "error", err)
	return status.Errorf(codes.Unavailable, "%s: upstream %s did not answer", what, u.cfg.Name)
}

// codeResourceNotFound is MCP's "resource not found" error code.
const codeResourceNotFound = -32002

// isNotFound recognises an upstream's "unknown tool/prompt" answer, which MCP sends
// as invalid params.
func isNotFound(msg string) bool {
	msg = strings.ToLower(msg)
	for _, s := range []string{"unknown tool", "unknown prompt", "not found"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func metaJSON(m mcp.Meta) []byte {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}
