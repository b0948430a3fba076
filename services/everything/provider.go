package everything

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/completion"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/faults"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/media"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/prompts"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/resources"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/tools"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/watched"
)

// Version is the provider's version, reported by Describe.
const Version = "0.1.0"

const instructions = "The everything provider exercises every MCP feature: echo and add for simple calls, " +
	"slow for progress and cancellation, log for log messages, get-image/get-audio/get-resource for rich content, " +
	"fail for tool errors, sample and elicit for client input, touch-resource to change test://watched-resource " +
	"(which also changes on a timer) for subscriptions; static resources under everything://static/, " +
	"the template everything://items/{id}, and prompts simple, greet and resource-and-image. " +
	"Names starting with test_ and test:// are the MCP conformance suite's fixtures."

// Deps are the provider's dependencies.
type Deps struct {
	// Telemetry is where logs go; its zero value discards them.
	Telemetry kit.TelemetrySettings
}

// Registrar is where gRPC services are registered; kit/grpcserver.Server satisfies it.
type Registrar interface {
	Register(desc *grpc.ServiceDesc, impl any)
}

// Provider implements providerv1.ProviderServiceServer. It is stateless and safe for
// concurrent use.
type Provider struct {
	providerv1.UnimplementedProviderServiceServer
	// Service is the lifecycle: while it runs, the watched resource changes on its
	// timer; Stop ends the WatchResources streams.
	*lifecycle.Service

	logger    *slog.Logger
	describe  *providerv1.DescribeResponse
	tools     *tools.Set
	resources *resources.Set
	prompts   *prompts.Set
	watched   *watched.Resource
	interval  time.Duration
	changed   chan struct{} // a catalogue change, for KeepRegisteredWatching

	mu sync.Mutex
	// dynamicTool and dynamicPrompt tell whether tools.DynamicToolName and
	// prompts.DynamicName are listed (the list-change fixtures toggle them).
	dynamicTool, dynamicPrompt bool
}

var _ providerv1.ProviderServiceServer = (*Provider)(nil)

// New builds the provider and its catalogue.
func New(cfg Config, deps Deps) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("everything config: %w", err)
	}
	logger := deps.Telemetry.WithDefaults().Logger
	assets, err := media.New()
	if err != nil {
		return nil, fmt.Errorf("generate media samples: %w", err)
	}
	res, err := resources.NewSet(assets)
	if err != nil {
		return nil, fmt.Errorf("build resources: %w", err)
	}
	w := watched.New()
	p := &Provider{
		logger:    logger.With("provider", cfg.Name),
		resources: res,
		prompts:   prompts.NewSet(assets),
		watched:   w,
		interval:  cfg.WatchedInterval,
		changed:   make(chan struct{}, 1),
	}
	p.tools, err = tools.NewSet(assets, res.Resources(), tools.Hooks{
		Touch: func(uri string) error {
			if uri != watched.URI {
				return fmt.Errorf("%w: %q cannot be touched; only %s changes", faults.ErrUnknownResource, uri, watched.URI)
			}
			w.Touch()
			return nil
		},
		ToggleTool:   func() bool { return p.toggle(&p.dynamicTool) },
		TogglePrompt: func() bool { return p.toggle(&p.dynamicPrompt) },
	})
	if err != nil {
		return nil, fmt.Errorf("build tools: %w", err)
	}
	p.describe = &providerv1.DescribeResponse{
		Name:         cfg.Name,
		Version:      Version,
		Instructions: instructions,
		Catalogue: &mcpv1.Catalogue{
			Tools:             p.tools.Definitions(),
			Resources:         res.Resources(),
			ResourceTemplates: res.Templates(),
			Prompts:           p.prompts.Definitions(),
		},
	}
	p.Service = lifecycle.NewService("provider-everything", lifecycle.Funcs{
		Running: func(ctx context.Context) error { p.watched.Run(ctx, p.interval); return nil },
	})
	return p, nil
}

// CatalogueChanged is signalled (at most one pending signal) each time the catalogue
// changes; KeepRegisteredWatching passes it on to the registry.
func (p *Provider) CatalogueChanged() <-chan struct{} { return p.changed }

// toggle flips one of the dynamic entries, reports whether it is listed now and signals
// the change.
func (p *Provider) toggle(listed *bool) bool {
	p.mu.Lock()
	*listed = !*listed
	now := *listed
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default: // a change is already pending; the refresh will see this one too
	}
	return now
}

// hidden reports whether a tool or prompt name is a dynamic entry that is not listed now.
func (p *Provider) hidden(tool, prompt string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return (tool == tools.DynamicToolName && !p.dynamicTool) || (prompt == prompts.DynamicName && !p.dynamicPrompt)
}

// Register adds the ProviderService to r.
func (p *Provider) Register(r Registrar) {
	r.Register(&providerv1.ProviderService_ServiceDesc, p)
}

// WatchResources streams every change of the watched resource until the caller leaves
// or the provider stops.
func (p *Provider) WatchResources(_ *providerv1.WatchResourcesRequest, stream grpc.ServerStreamingServer[providerv1.WatchResourcesResponse]) error {
	changes, unsubscribe := p.watched.Subscribe()
	defer unsubscribe()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-p.Stopping():
			return nil
		case c := <-changes:
			if err := stream.Send(&providerv1.WatchResourcesResponse{Uri: c.URI, ChangeId: c.ID}); err != nil {
				return err
			}
		}
	}
}

// Describe returns the catalogue, without the dynamic entries that are not listed now.
// It returns a copy, so callers may keep or change it.
func (p *Provider) Describe(context.Context, *providerv1.DescribeRequest) (*providerv1.DescribeResponse, error) {
	d := proto.CloneOf(p.describe)
	c := d.GetCatalogue()
	c.Tools = slices.DeleteFunc(c.Tools, func(t *mcpv1.Tool) bool { return p.hidden(t.GetName(), "") })
	c.Prompts = slices.DeleteFunc(c.Prompts, func(pr *mcpv1.Prompt) bool { return p.hidden("", pr.GetName()) })
	return d, nil
}

// CallTool runs a tool, streaming its progress and log events and then its outcome.
func (p *Provider) CallTool(req *providerv1.CallToolRequest, stream grpc.ServerStreamingServer[providerv1.CallToolResponse]) error {
	ctx := stream.Context()
	tool, ok := p.tools.Lookup(req.GetName())
	if !ok || p.hidden(req.GetName(), "") {
		return toStatus(ctx, p.logger, fmt.Errorf("%w: %q", faults.ErrUnknownTool, req.GetName()))
	}
	call := &tools.Call{
		Name:      req.GetName(),
		Arguments: req.GetArguments(),
		Context:   req.GetContext(),
		Emit:      tools.NewStreamEmitter(stream.Send, req.GetContext()),
	}
	out, err := tool.Run(ctx, call)
	if err != nil {
		return toStatus(ctx, p.logger, err)
	}
	resp := &providerv1.CallToolResponse{}
	switch {
	case out.InputRequired != nil:
		resp.Event = &providerv1.CallToolResponse_InputRequired{InputRequired: out.InputRequired}
	case out.Result != nil:
		resp.Event = &providerv1.CallToolResponse_Result{Result: out.Result}
	default:
		return toStatus(ctx, p.logger, fmt.Errorf("tool %s ended without an outcome", req.GetName()))
	}
	if err := stream.Send(resp); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ReadResource reads a static resource or one instance of a template.
func (p *Provider) ReadResource(ctx context.Context, req *providerv1.ReadResourceRequest) (*providerv1.ReadResourceResponse, error) {
	read := p.resources.Read
	if req.GetUri() == watched.URI {
		read = func(string) ([]byte, error) { return p.watched.Contents() }
	}
	contents, err := read(req.GetUri())
	if err != nil {
		return nil, toStatus(ctx, p.logger, err)
	}
	return &providerv1.ReadResourceResponse{Contents: contents}, nil
}

// GetPrompt renders a prompt.
func (p *Provider) GetPrompt(ctx context.Context, req *providerv1.GetPromptRequest) (*providerv1.GetPromptResponse, error) {
	if p.hidden("", req.GetName()) {
		return nil, toStatus(ctx, p.logger, fmt.Errorf("%w: %q", faults.ErrUnknownPrompt, req.GetName()))
	}
	r, err := p.prompts.Get(req.GetName(), req.GetArguments(), req.GetContext())
	if err != nil {
		return nil, toStatus(ctx, p.logger, err)
	}
	return &providerv1.GetPromptResponse{Description: r.Description, Messages: r.Messages, InputRequired: r.InputRequired}, nil
}

// Complete offers values for a prompt argument or a template variable that start with
// the value typed so far.
func (p *Provider) Complete(ctx context.Context, req *providerv1.CompleteRequest) (*providerv1.CompleteResponse, error) {
	ref, err := completion.ParseReference(req.GetRef())
	if err != nil {
		return nil, toStatus(ctx, p.logger, err)
	}
	var candidates []string
	if ref.Type == completion.PromptRef {
		candidates, err = p.prompts.CompletionValues(ref.Name, req.GetArgumentName())
	} else {
		candidates, err = p.resources.CompletionValues(ref.URI, req.GetArgumentName())
	}
	if err != nil {
		return nil, toStatus(ctx, p.logger, err)
	}
	values, total, hasMore := completion.Filter(candidates, req.GetArgumentValue())
	return &providerv1.CompleteResponse{Values: values, Total: int32(total), HasMore: hasMore}, nil
}
