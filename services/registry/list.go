package registry

import (
	"cmp"
	"context"
	"slices"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/pagetoken"
)

// ListProviders lists live providers ordered by name, with current lease expiries.
func (s *Service) ListProviders(ctx context.Context, _ *registryv1.ListProvidersRequest) (*registryv1.ListProvidersResponse, error) {
	records, err := s.store.List(ctx)
	if err != nil {
		return nil, statusOf(ctx, s.log, "ListProviders", err)
	}
	now := s.now()
	out := make([]*registryv1.Provider, 0, len(records))
	for _, r := range records {
		if !r.Expired(now) {
			out = append(out, catalogue.ProviderView(r))
		}
	}
	slices.SortFunc(out, func(a, b *registryv1.Provider) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return &registryv1.ListProvidersResponse{Providers: out}, nil
}

// ListTools pages through tools by exposed name.
func (s *Service) ListTools(ctx context.Context, req *registryv1.ListToolsRequest) (*registryv1.ListToolsResponse, error) {
	page, next, err := pageOf(s, pagetoken.Tools, s.snapshot().ToolViews(), catalogue.ToolViewKey, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, statusOf(ctx, s.log, "ListTools", err)
	}
	return &registryv1.ListToolsResponse{Tools: page, NextPageToken: next}, nil
}

// ListResources pages through concrete resources by URI.
func (s *Service) ListResources(ctx context.Context, req *registryv1.ListResourcesRequest) (*registryv1.ListResourcesResponse, error) {
	page, next, err := pageOf(s, pagetoken.Resources, s.snapshot().Resources, catalogue.ResourceKey, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, statusOf(ctx, s.log, "ListResources", err)
	}
	return &registryv1.ListResourcesResponse{Resources: page, NextPageToken: next}, nil
}

// ListResourceTemplates pages through resource templates by URI template.
func (s *Service) ListResourceTemplates(ctx context.Context, req *registryv1.ListResourceTemplatesRequest) (*registryv1.ListResourceTemplatesResponse, error) {
	page, next, err := pageOf(s, pagetoken.ResourceTemplates, s.snapshot().ResourceTemplates, catalogue.TemplateKey, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, statusOf(ctx, s.log, "ListResourceTemplates", err)
	}
	return &registryv1.ListResourceTemplatesResponse{ResourceTemplates: page, NextPageToken: next}, nil
}

// ListPrompts pages through prompts by exposed name.
func (s *Service) ListPrompts(ctx context.Context, req *registryv1.ListPromptsRequest) (*registryv1.ListPromptsResponse, error) {
	page, next, err := pageOf(s, pagetoken.Prompts, s.snapshot().Prompts, catalogue.PromptKey, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, statusOf(ctx, s.log, "ListPrompts", err)
	}
	return &registryv1.ListPromptsResponse{Prompts: page, NextPageToken: next}, nil
}

// pageOf cuts one page from items (ordered by key) and returns the cursor of the next
// page, empty on the last one. The page shares items' backing array, which is
// immutable.
func pageOf[T any](s *Service, kind pagetoken.Kind, items []T, key func(T) string, pageSize int32, token string) ([]T, string, error) {
	after, err := pagetoken.Decode(kind, token)
	if err != nil {
		return nil, "", fail(errInvalidArgument, nil, "invalid page_token")
	}
	size := int(pageSize)
	switch {
	case size < 0:
		return nil, "", fail(errInvalidArgument, nil, "page_size must not be negative")
	case size == 0:
		size = s.cfg.DefaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	page, more := catalogue.Page(items, key, after, size)
	if !more || len(page) == 0 {
		return page, "", nil
	}
	return page, pagetoken.Encode(kind, key(page[len(page)-1])), nil
}
