package session

import (
	"context"
	"encoding/json"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// The unary calls of callers that are not MCP clients (the REST API, internal
// services). Each becomes the stateless request an MCP client would send and runs on
// the dispatcher, so both surfaces validate, guard, time out and fail alike; errors
// keep the JSON-RPC message and become statuses in toStatus.

const (
	methodCallTool     = "/mcpmesh.session.v1.SessionService/CallTool"
	methodReadResource = "/mcpmesh.session.v1.SessionService/ReadResource"
	methodGetPrompt    = "/mcpmesh.session.v1.SessionService/GetPrompt"
)

// CallTool calls a tool through the dispatcher.
func (s *Service) CallTool(ctx context.Context, req *sessionv1.CallToolRequest) (*sessionv1.CallToolResponse, error) {
	result, err := s.callTool(ctx, req)
	if err != nil {
		return nil, s.toStatus(ctx, methodCallTool, err)
	}
	return &sessionv1.CallToolResponse{Result: result}, nil
}

func (s *Service) callTool(ctx context.Context, req *sessionv1.CallToolRequest) ([]byte, error) {
	params := mcpjson.NewObject(make([]byte, 0, len(req.GetName())+len(req.GetArguments())+32)).String("name", req.GetName())
	if args := req.GetArguments(); len(args) > 0 {
		if !json.Valid(args) {
			return nil, mcpjson.Errorf(mcpjson.CodeInvalidParams, "tools/call: params.arguments is not valid JSON")
		}
		params.Raw("arguments", args)
	}
	return s.unary(ctx, "tools/call", params.Bytes())
}

// ReadResource reads a resource through the dispatcher.
func (s *Service) ReadResource(ctx context.Context, req *sessionv1.ReadResourceRequest) (*sessionv1.ReadResourceResponse, error) {
	result, err := s.unary(ctx, "resources/read", mcpjson.NewObject(nil).String("uri", req.GetUri()).Bytes())
	if err != nil {
		return nil, s.toStatus(ctx, methodReadResource, err)
	}
	return &sessionv1.ReadResourceResponse{Result: result}, nil
}

// GetPrompt gets a prompt through the dispatcher.
func (s *Service) GetPrompt(ctx context.Context, req *sessionv1.GetPromptRequest) (*sessionv1.GetPromptResponse, error) {
	params := mcpjson.NewObject(nil).String("name", req.GetName())
	if len(req.GetArguments()) > 0 {
		args, err := json.Marshal(req.GetArguments())
		if err != nil {
			return nil, s.toStatus(ctx, methodGetPrompt, err)
		}
		params.Raw("arguments", args)
	}
	result, err := s.unary(ctx, "prompts/get", params.Bytes())
	if err != nil {
		return nil, s.toStatus(ctx, methodGetPrompt, err)
	}
	return &sessionv1.GetPromptResponse{Result: result}, nil
}

// unary runs method as a stateless request of the latest generation from a caller
// that declares no client capabilities.
func (s *Service) unary(ctx context.Context, method string, params []byte) ([]byte, error) {
	return s.backend.Dispatcher.Call(ctx, &dispatch.Request{
		ProtocolVersion: mcpversion.V20260728,
		Method:          method,
		Params:          params,
		NoClient:        true,
	})
}
