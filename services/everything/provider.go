package everything

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/sdk/provider"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"

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

// Provider is the everything provider, built on the provider SDK: its Server serves
// mcpmesh.provider.v1.ProviderService. It is safe for concurrent use.
type Provider struct {
	// Server is the SDK's ProviderService with the provider's catalogue.
	*provider.Server
	// Service is the lifecycle: while it runs, the watched resource changes on its
	// timer; when it stops, the WatchResources streams end.
	*lifecycle.Service

	tools    *tools.Set
	prompts  *prompts.Set
	watched  *watched.Resource
	interval time.Duration

	// toggles serializes the list-change fixtures, which add and remove
	// tools.DynamicToolName and prompts.DynamicName.
	toggles sync.Mutex
}

var _ providerv1.ProviderServiceServer = (*Provider)(nil)

// New builds the provider and its catalogue. The dynamic tool and prompt start unlisted.
func New(cfg Config, deps Deps) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("everything config: %w", err)
	}
	assets, err := media.New()
	if err != nil {
		return nil, fmt.Errorf("generate media samples: %w", err)
	}
	res, err := resources.NewSet(assets)
	if err != nil {
		return nil, fmt.Errorf("build resources: %w", err)
	}
	p := &Provider{prompts: prompts.NewSet(assets), interval: cfg.WatchedInterval}
	p.watched = watched.New(func(uri string) { p.ResourceChanged(uri) })
	p.tools, err = tools.NewSet(assets, res.Resources(), tools.Hooks{
		Touch: func(uri string) error {
			if uri != watched.URI {
				return fmt.Errorf("%q cannot be touched; only %s changes", uri, watched.URI)
			}
			p.watched.Touch()
			return nil
		},
		ToggleTool:   p.toggleTool,
		TogglePrompt: p.togglePrompt,
	})
	if err != nil {
		return nil, fmt.Errorf("build tools: %w", err)
	}
	features := p.tools.Features(tools.DynamicToolName)
	features = append(features, res.Features(map[string]provider.ReadFunc{watched.URI: p.watched.Read})...)
	features = append(features, p.prompts.Features(prompts.DynamicName)...)
	p.Server, err = provider.New(provider.Options{
		Name:         cfg.Name,
		Version:      Version,
		Instructions: instructions,
		Logger:       deps.Telemetry.WithDefaults().Logger,
	}, features...)
	if err != nil {
		return nil, err
	}
	p.Service = lifecycle.NewService("provider-everything", lifecycle.Funcs{
		Running: func(ctx context.Context) error {
			p.watched.Run(ctx, p.interval)
			p.Close()
			return nil
		},
	})
	return p, nil
}

// toggleTool lists the dynamic tool, or unlists it; it reports whether it is listed now.
func (p *Provider) toggleTool() bool {
	p.toggles.Lock()
	defer p.toggles.Unlock()
	if p.RemoveTool(tools.DynamicToolName) {
		return false
	}
	return p.Add(p.tools.Feature(tools.DynamicToolName)) == nil
}

// togglePrompt lists the dynamic prompt, or unlists it; it reports whether it is listed now.
func (p *Provider) togglePrompt() bool {
	p.toggles.Lock()
	defer p.toggles.Unlock()
	if p.RemovePrompt(prompts.DynamicName) {
		return false
	}
	return p.Add(p.prompts.Feature(prompts.DynamicName)) == nil
}

// Register adds the ProviderService to r.
func (p *Provider) Register(r Registrar) {
	r.Register(&providerv1.ProviderService_ServiceDesc, p.Server)
}
