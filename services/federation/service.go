package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/sdk/provider"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Providers is where the federation serves one ProviderService per upstream, by
// name; kit/namedservice.Mux satisfies it.
type Providers interface {
	Set(name string, impl any)
	Remove(name string)
}

// HealthReporter receives each upstream's status; grpc's health.Server satisfies it.
type HealthReporter interface {
	SetServingStatus(service string, status healthpb.HealthCheckResponse_ServingStatus)
}

// HealthName is the grpc.health.v1 service name under which the federation reports
// an upstream: the provider service's name, "/" and the provider's name (the health
// service asks for it before the process-wide provider status).
func HealthName(provider string) string {
	return providerv1.ProviderService_ServiceDesc.ServiceName + "/" + provider
}

// Deps are the federation's dependencies.
type Deps struct {
	Telemetry kit.TelemetrySettings
	// Registry is where each connected upstream is registered as a provider.
	Registry registryv1.RegistryServiceClient
	// Providers serves each upstream's ProviderService.
	Providers Providers
	// Address is where the registry and the session service reach Providers
	// ("inproc" in a process that runs them too).
	Address string
	// Lease is the registration lease asked of the registry.
	Lease time.Duration
	// Health, when set, gets each upstream's status (SERVING while connected).
	Health HealthReporter
	// Store keeps the upstreams of the admin API (nil: a MemoryStore of this process).
	Store UpstreamStore
}

// Service keeps every configured upstream connected and registered, and every
// configured gRPC service read and registered, while it runs.
type Service struct {
	*lifecycle.Service

	deps      Deps
	cfg       Config
	logger    *slog.Logger
	breakers  *breaker.Breakers
	upstreams []*upstream
	grpc      []*grpcsource.Source
	first     *firstAttempts
	// stored are the running upstreams of the store (dynamic.go).
	stored *storedUpstreams
}

// New builds the service; nothing connects before it starts.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("federation config: %w", err)
	}
	if deps.Registry == nil || deps.Providers == nil || deps.Address == "" || deps.Lease < time.Second {
		return nil, fmt.Errorf("federation: need a registry client, a provider server, an address and a lease of at least 1s")
	}
	tel := deps.Telemetry.WithDefaults()
	breakers, err := breaker.New(cfg.Breaker, breaker.Options{IsFailure: breakerFailure})
	if err != nil {
		return nil, fmt.Errorf("federation breakers: %w", err)
	}
	// No breaker.Observe: the session's breakers report under the same metric and
	// provider names in the same process, and two series of one name and labels
	// would break the scrape. The session's breaker state covers the provider.
	if deps.Store == nil {
		deps.Store = NewMemoryStore()
	}
	s := &Service{deps: deps, cfg: cfg, logger: tel.Logger, breakers: breakers, first: newFirstAttempts(append(cfg.ProviderNames(), storeReading)), stored: newStoredUpstreams()}
	for _, u := range cfg.Upstreams {
		s.upstreams = append(s.upstreams, newUpstream(u, cfg, tel.Logger, breakers))
	}
	for _, g := range cfg.GRPC {
		src, err := grpcsource.New(g, grpcsource.Deps{
			Telemetry:    deps.Telemetry,
			AfterReading: s.grpcReadings(g.Name, tel.Logger.With("provider", g.Name)),
		})
		if err != nil {
			return nil, fmt.Errorf("federation: %w", err)
		}
		s.grpc = append(s.grpc, src)
	}
	s.Service = lifecycle.NewService("federation", lifecycle.Funcs{Running: s.running})
	return s, nil
}

// breakerFailure is what an upstream's breaker counts: a failure to reach the
// upstream, not its answers, nor a caller waiting for a session while all are busy.
func breakerFailure(err error) bool {
	return !upstreamAnswered(err) && !errors.Is(err, errTooManyCallers)
}

// running serves and keeps connected each upstream until the service stops.
func (s *Service) running(ctx context.Context) error {
	for _, u := range s.upstreams {
		u.stopping = s.Stopping()
		s.deps.Providers.Set(u.cfg.Name, u.provider())
		s.Go(func(ctx context.Context) error {
			u.run(ctx, s.firstAttemptAndHealth(u.cfg.Name), s.keepRegistered(u))
			return nil
		})
	}
	for _, src := range s.grpc {
		s.deps.Providers.Set(src.Name(), src)
		s.healthOf(src.Name())(false)
		s.Go(func(ctx context.Context) error {
			s.runGRPC(ctx, src)
			return nil
		})
	}
	s.Go(func(ctx context.Context) error {
		s.followStore(ctx)
		return nil
	})
	<-ctx.Done()
	return nil
}

// keepRegistered keeps an upstream's provider registered (from its first connection
// on), and turns its catalogue changes into registry refreshes that announce the
// lists the upstream said changed (announce.go).
func (s *Service) keepRegistered(u *upstream) func(ctx context.Context) {
	return func(ctx context.Context) {
		// It fails only on arguments New has checked.
		_ = provider.KeepRegisteredAnnouncing(ctx, s.deps.Registry, u.cfg.Name, s.deps.Address, s.deps.Lease, u.logger, u.changed, u.announced.take)
	}
}

// firstAttemptAndHealth reports an upstream's connection state as its health, the
// first report also ending its first attempt.
func (s *Service) firstAttemptAndHealth(name string) func(bool) {
	health := s.healthOf(name)
	return func(serving bool) {
		s.first.done(name, serving)
		health(serving)
	}
}

func (s *Service) healthOf(name string) func(bool) {
	return func(serving bool) {
		if s.deps.Health == nil {
			return
		}
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if serving {
			st = healthpb.HealthCheckResponse_SERVING
		}
		s.deps.Health.SetServingStatus(HealthName(name), st)
	}
}
