package health

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"

	"github.com/mcpmesh/mcpmesh/services/health/internal/checker"
	"github.com/mcpmesh/mcpmesh/services/health/internal/latest"
	"github.com/mcpmesh/mcpmesh/services/health/internal/probe"
)

// Service is the health service: a checker loop and the HealthService gRPC server.
type Service struct {
	healthv1.UnimplementedHealthServiceServer
	// Service is the lifecycle: Start runs the checker loop, Stop ends it and the
	// open watches.
	*lifecycle.Service

	logger   *slog.Logger
	version  string
	checker  *checker.Checker
	interval time.Duration
	latest   *latest.Value
	// roundSlot holds one token: rounds never overlap (the loop's and a first Check's).
	roundSlot chan struct{}
	// ownHTTP is the HTTP client this service made, closed on Stop; nil if given one.
	ownHTTP *http.Client
}

// New validates cfg and builds the service. Nothing runs until Start.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("health config: %w", err)
	}
	logger := deps.Telemetry.WithDefaults().Logger
	targets := serviceTargets(cfg.Services, logger)
	registry := deps.Registry
	if !cfg.ProvidersFromRegistry {
		registry = nil
	}
	if deps.Conns == nil && (registry != nil || needsGRPC(targets)) {
		return nil, errors.New("health: Deps.Conns is required to check gRPC services and providers")
	}
	if deps.Database != nil && deps.Database.Check == nil {
		return nil, errors.New("health: Deps.Database.Check is required")
	}
	s := &Service{
		logger:    logger,
		version:   cmp.Or(deps.Version, "dev"),
		interval:  cfg.CheckInterval,
		latest:    latest.New(),
		roundSlot: make(chan struct{}, 1),
	}
	s.Service = lifecycle.NewService("health", lifecycle.Funcs{Running: s.loop, Stopping: s.stopping})
	httpClient := deps.HTTPClient
	if httpClient == nil {
		s.ownHTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		httpClient = s.ownHTTP
	}
	s.checker = checker.New(checker.Settings{
		Services: targets,
		Registry: registry,
		Conns:    deps.Conns,
		Database: deps.Database,
		Prober:   probe.Prober{Budget: cfg.CheckTimeout, HTTPClient: httpClient},
		Timeout:  cfg.CheckTimeout,
		Logger:   logger,
	})
	return s, nil
}

func needsGRPC(targets []checker.ServiceTarget) bool {
	for _, t := range targets {
		if !t.HTTP {
			return true
		}
	}
	return false
}

// Register adds the HealthService to r.
func (s *Service) Register(r Registrar) {
	r.Register(&healthv1.HealthService_ServiceDesc, s)
}

// errStopped ends watches when the service stops.
var errStopped = errors.New("health checker stopped")

// stopping releases the HTTP client the service made.
func (s *Service) stopping(error) error {
	if s.ownHTTP != nil {
		s.ownHTTP.CloseIdleConnections()
	}
	return nil
}

// startupInterval is the time between rounds until the mesh is first seen serving, so
// that a starting mesh (providers register a moment after the services start) is
// reported healthy as soon as it is, not a whole check_interval later.
const startupInterval = 500 * time.Millisecond

// loop runs a round at once and then every check_interval (every startupInterval until
// the mesh is first seen serving), until the service stops.
func (s *Service) loop(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	seenServing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		started := time.Now()
		r, err := s.round(ctx, false)
		if err != nil {
			return nil // only when ctx ended
		}
		seenServing = seenServing || r.GetStatus() == healthv1.Status_STATUS_SERVING
		wait := s.interval
		if !seenServing {
			wait = min(wait, startupInterval)
		}
		// Rounds start every wait; a slow round delays the next instead of overlapping it.
		timer.Reset(max(0, wait-time.Since(started)))
	}
}

// round runs one round and publishes it. With onlyIfNone it returns the existing
// result instead when one appears while waiting for the slot (the first Check's case).
// A round whose ctx ended is not published: its components would all read "canceled".
func (s *Service) round(ctx context.Context, onlyIfNone bool) (*healthv1.CheckResponse, error) {
	select {
	case s.roundSlot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.roundSlot }()
	if onlyIfNone {
		if r := s.latest.Load(); r != nil {
			return r, nil
		}
	}
	r := s.checker.Round(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Version = s.version
	s.latest.Store(r)
	return r, nil
}

// Latest returns the newest result for in-process callers (ping, readiness), or nil
// before the first round completes. The result is shared: do not modify it.
func (s *Service) Latest() *healthv1.CheckResponse {
	return s.latest.Load()
}

// current returns the newest result, running a round first if there is none yet, so
// that nobody is ever answered UNSPECIFIED.
func (s *Service) current(ctx context.Context) (*healthv1.CheckResponse, error) {
	if r := s.latest.Load(); r != nil {
		return r, nil
	}
	return s.round(ctx, true)
}
