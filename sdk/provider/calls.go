package provider

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

// CallTool runs a tool, streaming its progress and log events and then its outcome.
func (s *Server) CallTool(req *providerv1.CallToolRequest, stream grpc.ServerStreamingServer[providerv1.CallToolResponse]) error {
	ctx, err := s.callContext(stream.Context(), req.GetContext())
	if err != nil {
		return err
	}
	tool, ok := s.cat.tool(req.GetName())
	if !ok {
		return toStatus(ctx, s.logger, notFound("unknown tool %q", req.GetName()))
	}
	ctx = withCallEvents(ctx, &callEvents{
		send:     stream.Send,
		logger:   s.opts.Name,
		minLevel: levelRank(req.GetContext().GetLogLevel()),
		progress: req.GetContext().GetProgressRequested(),
	})
	out, err := tool.run(ctx, &ToolCall{Name: req.GetName(), Arguments: req.GetArguments()})
	if err != nil {
		if out, err = outcomeOf(err); err != nil {
			return toStatus(ctx, s.logger.With("tool", req.GetName()), err)
		}
	}
	resp := &providerv1.CallToolResponse{}
	switch {
	case out.InputRequired != nil:
		resp.Event = &providerv1.CallToolResponse_InputRequired{InputRequired: out.InputRequired}
	case out.Result != nil:
		resp.Event = &providerv1.CallToolResponse_Result{Result: out.Result}
	default:
		return toStatus(ctx, s.logger, fmt.Errorf("tool %s ended without an outcome", req.GetName()))
	}
	if err := stream.Send(resp); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// outcomeOf turns the errors that stand for an outcome (*ToolError, *InputRequired)
// into it, and returns any other error.
func outcomeOf(err error) (Outcome, error) {
	var toolErr *ToolError
	var input *InputRequired
	switch {
	case errors.As(err, &input):
		ir, encErr := input.encode()
		return Outcome{InputRequired: ir}, encErr
	case errors.As(err, &toolErr):
		res, encErr := (&Result{Content: []any{content.Text(toolErr.Message)}, IsError: true}).encode()
		return Outcome{Result: res}, encErr
	}
	return Outcome{}, err
}

// ReadResource reads a resource or one instance of a template.
func (s *Server) ReadResource(ctx context.Context, req *providerv1.ReadResourceRequest) (*providerv1.ReadResourceResponse, error) {
	ctx, err := s.callContext(ctx, req.GetContext())
	if err != nil {
		return nil, err
	}
	read, ok := s.cat.reader(req.GetUri())
	if !ok {
		return nil, toStatus(ctx, s.logger, notFound("unknown resource %q", req.GetUri()))
	}
	contents, err := read(ctx, req.GetUri())
	var input *InputRequired
	if errors.As(err, &input) {
		ir, err := input.encode()
		return &providerv1.ReadResourceResponse{InputRequired: ir}, toStatus(ctx, s.logger, err)
	}
	if err != nil {
		return nil, toStatus(ctx, s.logger.With("uri", req.GetUri()), err)
	}
	blocks, err := content.Blocks(anySlice(contents)...)
	if err != nil {
		return nil, toStatus(ctx, s.logger, err)
	}
	return &providerv1.ReadResourceResponse{Contents: blocks}, nil
}

// GetPrompt renders a prompt after checking its required arguments.
func (s *Server) GetPrompt(ctx context.Context, req *providerv1.GetPromptRequest) (*providerv1.GetPromptResponse, error) {
	ctx, err := s.callContext(ctx, req.GetContext())
	if err != nil {
		return nil, err
	}
	p, ok := s.cat.prompt(req.GetName())
	if !ok {
		return nil, toStatus(ctx, s.logger, notFound("unknown prompt %q", req.GetName()))
	}
	for _, a := range p.def.GetArguments() {
		if a.GetRequired() && req.GetArguments()[a.GetName()] == "" {
			return nil, toStatus(ctx, s.logger, invalid("prompt %q needs argument %q", req.GetName(), a.GetName()))
		}
	}
	msgs, err := p.render(ctx, req.GetArguments())
	resp := &providerv1.GetPromptResponse{Description: p.def.GetDescription()}
	var input *InputRequired
	if errors.As(err, &input) {
		resp.InputRequired, err = input.encode()
		return resp, toStatus(ctx, s.logger, err)
	}
	if err != nil {
		return nil, toStatus(ctx, s.logger.With("prompt", req.GetName()), err)
	}
	if msgs == nil {
		msgs = []PromptMessage{}
	}
	if resp.Messages, err = content.Blocks(anySlice(msgs)...); err != nil {
		return nil, toStatus(ctx, s.logger, err)
	}
	return resp, nil
}

// Complete offers the values of a prompt argument or template variable that start
// with the value typed so far.
func (s *Server) Complete(ctx context.Context, req *providerv1.CompleteRequest) (*providerv1.CompleteResponse, error) {
	ctx, err := s.callContext(ctx, req.GetContext())
	if err != nil {
		return nil, err
	}
	ref, err := parseReference(req.GetRef())
	if err != nil {
		return nil, toStatus(ctx, s.logger, err)
	}
	var complete CompleteFunc
	if ref.Type == promptRef {
		p, ok := s.cat.prompt(ref.Name)
		if !ok {
			return nil, toStatus(ctx, s.logger, notFound("unknown reference: prompt %q", ref.Name))
		}
		complete = p.complete
	} else {
		t, ok := s.cat.template(ref.URI)
		if !ok {
			return nil, toStatus(ctx, s.logger, notFound("unknown reference: resource template %q", ref.URI))
		}
		complete = t.complete
	}
	var candidates []string
	if complete != nil {
		if candidates, err = complete(ctx, req.GetArgumentName(), req.GetArgumentValue(), req.GetContextArguments()); err != nil {
			return nil, toStatus(ctx, s.logger.With("argument", req.GetArgumentName()), err)
		}
	}
	values, total, hasMore := filterPrefix(candidates, req.GetArgumentValue())
	return &providerv1.CompleteResponse{Values: values, Total: int32(total), HasMore: hasMore}, nil
}

// callContext checks the caller's assertion and puts the request context in ctx.
func (s *Server) callContext(ctx context.Context, rc *mcpv1.RequestContext) (context.Context, error) {
	if err := s.verifyAssertion(ctx); err != nil {
		return nil, err
	}
	return withRequest(ctx, rc), nil
}

func anySlice[T any](list []T) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}
