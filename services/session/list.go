package session

import (
	"context"

	"go.opentelemetry.io/otel/attribute"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonvalue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// The listings of callers that are not MCP clients (GET /v1/tools and its siblings).
// They cut their pages on the dispatcher's list path, the one of tools/list and the
// other MCP listings, so the principal sees the same entries, page by page, and page
// tokens are MCP cursors; only the shape is the registry's REST one.

const (
	methodListTools             = "/mcpmesh.session.v1.SessionService/ListTools"
	methodListResources         = "/mcpmesh.session.v1.SessionService/ListResources"
	methodListResourceTemplates = "/mcpmesh.session.v1.SessionService/ListResourceTemplates"
	methodListPrompts           = "/mcpmesh.session.v1.SessionService/ListPrompts"
)

// pageRequest is what the four List requests share.
type pageRequest interface {
	GetPageSize() int32
	GetPageToken() string
}

// listPage cuts one page of l for req, converting each entry with view.
func listPage[T any](s *Service, ctx context.Context, rpc string, l dispatch.Listing, req pageRequest, view func(*catalogue.Entry) T) ([]T, string, error) {
	if req.GetPageSize() < 0 {
		return nil, "", s.toStatus(ctx, rpc, mcpjson.Errorf(mcpjson.CodeInvalidParams, "%s: page_size must not be negative", l.Method()))
	}
	page, next, err := s.backend.Dispatcher.Page(ctx, l, req.GetPageToken(), int(req.GetPageSize()))
	if err != nil {
		return nil, "", s.toStatus(ctx, rpc, err)
	}
	out := make([]T, len(page))
	for i := range page {
		out[i] = view(&page[i])
	}
	return out, next, nil
}

// ListTools lists the tools the caller may use.
func (s *Service) ListTools(ctx context.Context, req *sessionv1.ListToolsRequest) (*sessionv1.ListToolsResponse, error) {
	tools, next, err := listPage(s, ctx, methodListTools, dispatch.ListTools, req, toolView)
	if err != nil {
		return nil, err
	}
	return &sessionv1.ListToolsResponse{Tools: tools, NextPageToken: next}, nil
}

// ListResources lists the resources the caller may read.
func (s *Service) ListResources(ctx context.Context, req *sessionv1.ListResourcesRequest) (*sessionv1.ListResourcesResponse, error) {
	resources, next, err := listPage(s, ctx, methodListResources, dispatch.ListResources, req, func(e *catalogue.Entry) *registryv1.RoutedResource {
		if r, ok := e.Routed.(*registryv1.RoutedResource); ok {
			return r
		}
		return &registryv1.RoutedResource{Provider: e.Route.Provider}
	})
	if err != nil {
		return nil, err
	}
	return &sessionv1.ListResourcesResponse{Resources: resources, NextPageToken: next}, nil
}

// ListResourceTemplates lists the resource templates the caller may use.
func (s *Service) ListResourceTemplates(ctx context.Context, req *sessionv1.ListResourceTemplatesRequest) (*sessionv1.ListResourceTemplatesResponse, error) {
	templates, next, err := listPage(s, ctx, methodListResourceTemplates, dispatch.ListResourceTemplates, req, func(e *catalogue.Entry) *registryv1.RoutedResourceTemplate {
		if t, ok := e.Routed.(*registryv1.RoutedResourceTemplate); ok {
			return t
		}
		return &registryv1.RoutedResourceTemplate{Provider: e.Route.Provider}
	})
	if err != nil {
		return nil, err
	}
	return &sessionv1.ListResourceTemplatesResponse{ResourceTemplates: templates, NextPageToken: next}, nil
}

// ListPrompts lists the prompts the caller may get.
func (s *Service) ListPrompts(ctx context.Context, req *sessionv1.ListPromptsRequest) (*sessionv1.ListPromptsResponse, error) {
	prompts, next, err := listPage(s, ctx, methodListPrompts, dispatch.ListPrompts, req, func(e *catalogue.Entry) *registryv1.RoutedPrompt {
		if p, ok := e.Routed.(*registryv1.RoutedPrompt); ok {
			return p
		}
		return &registryv1.RoutedPrompt{Name: e.Key, Provider: e.Route.Provider}
	})
	if err != nil {
		return nil, err
	}
	return &sessionv1.ListPromptsResponse{Prompts: prompts, NextPageToken: next}, nil
}

// toolView is a tool in the REST shape the registry's ListTools also answers with.
func toolView(e *catalogue.Entry) *registryv1.ToolView {
	rt, ok := e.Routed.(*registryv1.RoutedTool)
	if !ok {
		return &registryv1.ToolView{Name: e.Key, Provider: e.Route.Provider}
	}
	t := rt.GetTool()
	// The registry sanitises schemas and annotations to JSON objects at registration,
	// so a conversion that fails leaves a field unset, as the registry's view does.
	in, _ := jsonvalue.Struct(t.GetInputSchema())
	out, _ := jsonvalue.Struct(t.GetOutputSchema())
	ann, _ := jsonvalue.Struct(t.GetAnnotations())
	return &registryv1.ToolView{
		Name: rt.GetName(), Title: t.GetTitle(), Description: t.GetDescription(),
		Provider: rt.GetProvider(), InputSchema: in, OutputSchema: out, Annotations: ann,
	}
}

// The listings traced and measured as the MCP methods they share a path with.

// ListTools is Service.ListTools, traced and measured as a tools/list.
func (o *observed) ListTools(ctx context.Context, req *sessionv1.ListToolsRequest) (*sessionv1.ListToolsResponse, error) {
	return observeUnary(o, ctx, dispatch.ListTools.Method(), noTarget,
		func(ctx context.Context) (*sessionv1.ListToolsResponse, error) { return o.Service.ListTools(ctx, req) }, nil)
}

// ListResources is Service.ListResources, traced and measured as a resources/list.
func (o *observed) ListResources(ctx context.Context, req *sessionv1.ListResourcesRequest) (*sessionv1.ListResourcesResponse, error) {
	return observeUnary(o, ctx, dispatch.ListResources.Method(), noTarget,
		func(ctx context.Context) (*sessionv1.ListResourcesResponse, error) {
			return o.Service.ListResources(ctx, req)
		}, nil)
}

// ListResourceTemplates is Service.ListResourceTemplates, traced and measured as a
// resources/templates/list.
func (o *observed) ListResourceTemplates(ctx context.Context, req *sessionv1.ListResourceTemplatesRequest) (*sessionv1.ListResourceTemplatesResponse, error) {
	return observeUnary(o, ctx, dispatch.ListResourceTemplates.Method(), noTarget,
		func(ctx context.Context) (*sessionv1.ListResourceTemplatesResponse, error) {
			return o.Service.ListResourceTemplates(ctx, req)
		}, nil)
}

// ListPrompts is Service.ListPrompts, traced and measured as a prompts/list.
func (o *observed) ListPrompts(ctx context.Context, req *sessionv1.ListPromptsRequest) (*sessionv1.ListPromptsResponse, error) {
	return observeUnary(o, ctx, dispatch.ListPrompts.Method(), noTarget,
		func(ctx context.Context) (*sessionv1.ListPromptsResponse, error) {
			return o.Service.ListPrompts(ctx, req)
		}, nil)
}

// noTarget: listings have no target, so the span is named by the method alone.
func noTarget() (string, attribute.KeyValue) { return "", attribute.KeyValue{} }
