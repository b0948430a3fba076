package checker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/health/internal/probe"
)

// ProviderHealthName is the grpc.health.v1 service name providers are asked about
// first.
const ProviderHealthName = "mcpmesh.provider.v1.ProviderService"

// ListingComponentName names the provider component that stands for a failed provider
// listing. The parentheses keep it apart from real provider names.
const ListingComponentName = "(provider list)"

// NoProvidersComponentName names the provider component that stands for an empty
// listing: a mesh without providers serves nothing, so it is degraded, not healthy.
const NoProvidersComponentName = "(no providers)"

// Database is the database a Checker reports as a DATABASE component.
type Database struct {
	Name    string
	Address string
	// Check returns nil when the database is usable; its error text is shown to people
	// as is, so it must be written for them and carry no secrets.
	Check func(ctx context.Context) error
}

// Conns hands out client connections by target.
type Conns interface {
	Conn(target string) (grpc.ClientConnInterface, error)
}

// ServiceTarget is one mesh service to check.
type ServiceTarget struct {
	Name    string
	Address string
	// HealthName is the grpc.health.v1 service name asked about; "" is the server as a
	// whole.
	HealthName string
	// HTTP checks Address + "/healthz" instead of grpc.health.v1.
	HTTP bool
}

// Settings configures a Checker.
type Settings struct {
	Services []ServiceTarget
	// Registry lists providers; nil checks no providers.
	Registry registryv1.RegistryServiceClient
	Conns    Conns
	// Database, when set, is checked every round.
	Database *Database
	Prober   probe.Prober
	// Timeout bounds a whole round.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Checker runs rounds. Rounds must not overlap: the caller serialises them.
type Checker struct {
	settings Settings

	// Providers of the last successful listing, checked again when a listing fails so
	// that a registry outage does not hide the providers' own health.
	mu             sync.Mutex
	knownProviders []*registryv1.Provider
	listingFailed  bool
}

// New returns a Checker.
func New(s Settings) *Checker {
	return &Checker{settings: s}
}

// Round checks everything once, bounded by the round timeout, and returns a new
// response that nobody else holds.
func (c *Checker) Round(ctx context.Context) *healthv1.CheckResponse {
	ctx, cancel := context.WithTimeout(ctx, c.settings.Timeout)
	defer cancel()

	var (
		mu         sync.Mutex
		components = make([]*healthv1.Component, 0, len(c.settings.Services)+len(c.knownProvidersSnapshot())+1)
		wg         sync.WaitGroup
	)
	add := func(comp *healthv1.Component) {
		mu.Lock()
		components = append(components, comp)
		mu.Unlock()
	}
	for _, target := range c.settings.Services {
		wg.Go(func() { add(c.checkService(ctx, target)) })
	}
	if db := c.settings.Database; db != nil {
		wg.Go(func() { add(c.checkDatabase(ctx, db)) })
	}
	if c.settings.Registry != nil {
		wg.Go(func() {
			providers, listing := c.listProviders(ctx)
			if listing != nil {
				add(listing)
			}
			var pwg sync.WaitGroup
			for _, p := range providers {
				pwg.Go(func() { add(c.checkProvider(ctx, p)) })
			}
			pwg.Wait()
		})
	}
	wg.Wait()

	SortComponents(components)
	return &healthv1.CheckResponse{Status: Aggregate(components), Components: components}
}

func (c *Checker) knownProvidersSnapshot() []*registryv1.Provider {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.knownProviders
}

// listProviders returns the providers to check, and a failed component when the
// listing failed (then the providers are those of the last good listing).
func (c *Checker) listProviders(ctx context.Context) ([]*registryv1.Provider, *healthv1.Component) {
	started := time.Now()
	resp, err := c.settings.Registry.ListProviders(ctx, &registryv1.ListProvidersRequest{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		if c.listingFailed {
			c.settings.Logger.InfoContext(ctx, "health: provider listing recovered")
		}
		c.listingFailed = false
		c.knownProviders = resp.GetProviders()
		if len(c.knownProviders) == 0 {
			return nil, component(healthv1.ComponentKind_COMPONENT_KIND_PROVIDER, NoProvidersComponentName, "", started,
				probe.Outcome{Status: healthv1.Status_STATUS_NOT_SERVING, Message: "no provider is registered: clients see no tools, resources or prompts"})
		}
		return c.knownProviders, nil
	}
	message := "cannot list providers: " + probe.Describe(ctx, err, c.settings.Timeout)
	// Logged once per outage: the component already reports it every round.
	if !c.listingFailed {
		c.settings.Logger.WarnContext(ctx, "health: listing providers failed", slog.Any("error", err))
	}
	c.listingFailed = true
	return c.knownProviders, component(healthv1.ComponentKind_COMPONENT_KIND_PROVIDER, ListingComponentName, "", started,
		probe.Outcome{Status: healthv1.Status_STATUS_NOT_SERVING, Message: message})
}

func (c *Checker) checkService(ctx context.Context, t ServiceTarget) *healthv1.Component {
	started := time.Now()
	var outcome probe.Outcome
	if t.HTTP {
		outcome = c.settings.Prober.HTTP(ctx, t.Address)
	} else {
		outcome = c.grpcCheck(ctx, t.Address, t.HealthName, false)
	}
	return component(healthv1.ComponentKind_COMPONENT_KIND_SERVICE, t.Name, t.Address, started, outcome)
}

// checkDatabase runs the database's own check; a check cut by the round's deadline
// says so rather than showing a context error.
func (c *Checker) checkDatabase(ctx context.Context, db *Database) *healthv1.Component {
	started := time.Now()
	outcome := probe.Serving
	if err := db.Check(ctx); err != nil {
		message := err.Error()
		if ctx.Err() != nil {
			message = probe.Describe(ctx, err, c.settings.Timeout)
		}
		outcome = probe.Outcome{Status: healthv1.Status_STATUS_NOT_SERVING, Message: message}
	}
	return component(healthv1.ComponentKind_COMPONENT_KIND_DATABASE, db.Name, db.Address, started, outcome)
}

func (c *Checker) checkProvider(ctx context.Context, p *registryv1.Provider) *healthv1.Component {
	started := time.Now()
	var outcome probe.Outcome
	if p.GetAddress() == "" {
		outcome = probe.Outcome{Status: healthv1.Status_STATUS_NOT_SERVING, Message: "no address"}
	} else {
		// A process serving several providers (the federation) reports each under
		// ProviderHealthName/<name>; a provider on its own reports ProviderHealthName.
		outcome = c.grpcCheck(ctx, p.GetAddress(), ProviderHealthName+"/"+p.GetName(), true, ProviderHealthName)
	}
	return component(healthv1.ComponentKind_COMPONENT_KIND_PROVIDER, p.GetName(), p.GetAddress(), started, outcome)
}

func (c *Checker) grpcCheck(ctx context.Context, address, healthName string, fallbackToServer bool, fallbacks ...string) probe.Outcome {
	conn, err := c.settings.Conns.Conn(address)
	if err != nil {
		c.settings.Logger.DebugContext(ctx, "health: no connection", slog.String("address", address), slog.Any("error", err))
		return probe.Outcome{Status: healthv1.Status_STATUS_NOT_SERVING, Message: "invalid address"}
	}
	return c.settings.Prober.GRPC(ctx, conn, healthName, fallbackToServer, fallbacks...)
}
