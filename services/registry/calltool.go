package registry

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/jsonvalue"
)

// CallTool routes a call by exposed tool name to its provider and waits for the result.
// Progress and log events are dropped: REST callers get the result only. A tool that
// needs client input cannot finish here; it must be called through /mcp.
func (s *Service) CallTool(ctx context.Context, req *registryv1.CallToolRequest) (*registryv1.CallToolResponse, error) {
	resp, err := s.callTool(ctx, req)
	return resp, statusOf(ctx, s.log, "CallTool", err)
}

func (s *Service) callTool(ctx context.Context, req *registryv1.CallToolRequest) (*registryv1.CallToolResponse, error) {
	name := req.GetName()
	if name == "" {
		return nil, fail(errInvalidArgument, nil, "tool name is required")
	}
	route, ok := s.snapshot().Tool(name)
	if !ok {
		return nil, fail(errNotFound, nil, "unknown tool %s", name)
	}
	args, err := jsonvalue.ObjectBytes(req.GetArguments())
	if err != nil {
		return nil, fail(errInvalidArgument, err, "arguments of tool %s are not a JSON object", name)
	}
	conn, err := s.conns.Conn(route.Address)
	if err != nil {
		return nil, fail(errProviderUnavailable, err, "provider %s of tool %s is unavailable", route.Provider, name)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel() // also ends the provider stream once the result is in
	stream, err := providerv1.NewProviderServiceClient(conn).CallTool(ctx, &providerv1.CallToolRequest{
		Name:      route.Tool,
		Arguments: args,
		// REST and internal callers speak the mesh's own (stateless) model.
		Context: &mcpv1.RequestContext{ProtocolVersion: mcpversion.V20260728},
	})
	if err != nil {
		return nil, providerCallError(err, name, route)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, fail(errProviderFailed, nil, "provider %s ended tool %s without a result", route.Provider, name)
		}
		if err != nil {
			return nil, providerCallError(err, name, route)
		}
		switch e := ev.GetEvent().(type) {
		case *providerv1.CallToolResponse_Result:
			return toolResult(e.Result, name, route)
		case *providerv1.CallToolResponse_InputRequired:
			return nil, fail(errInputRequired, nil, "tool %s needs client input; call it through /mcp", name)
		default:
			// Progress and log events have no place in a unary REST answer.
		}
	}
}

// toolResult converts the provider's raw JSON result into the Struct-based response.
func toolResult(r *mcpv1.ToolResult, name string, route catalogue.Route) (*registryv1.CallToolResponse, error) {
	content, err := jsonvalue.List(r.GetContent())
	if err != nil {
		return nil, fail(errProviderFailed, err, "provider %s returned invalid content for tool %s", route.Provider, name)
	}
	structured, err := jsonvalue.Struct(r.GetStructuredContent())
	if err != nil {
		return nil, fail(errProviderFailed, err, "provider %s returned invalid structured content for tool %s", route.Provider, name)
	}
	return &registryv1.CallToolResponse{Content: content, StructuredContent: structured, IsError: r.GetIsError()}, nil
}

// providerCallError classifies a failed provider call. Messages name the tool and the
// provider but never carry the provider's own error text, except for argument
// problems, which are the caller's to fix.
func providerCallError(err error, name string, route catalogue.Route) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	switch st, _ := status.FromError(err); st.Code() {
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return fail(errProviderTimeout, err, "tool %s on provider %s did not finish in time", name, route.Provider)
	case codes.Unavailable:
		return fail(errProviderUnavailable, err, "provider %s of tool %s is unavailable", route.Provider, name)
	case codes.InvalidArgument:
		return fail(errInvalidArgument, err, "tool %s: %s", name, st.Message())
	default:
		return fail(errProviderFailed, err, "tool %s failed on provider %s", name, route.Provider)
	}
}
