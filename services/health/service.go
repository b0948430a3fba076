package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"

	"github.com/mcpmesh/mcpmesh/services/health/internal/checker"
	"github.com/mcpmesh/mcpmesh/services/health/internal/latest"
	"github.com/mcpmesh/mcpmesh/services/health/internal/probe"
)

// Service is the health service: a checker loop and the HealthService gRPC server.
type Service struct {
	healthv1.UnimplementedHealthServiceServer

	logger   *slog.Logger
	checker  *checker.Checker
	interval time.Duration
	latest   *latest.Value
	// roundSlot holds one token: rounds never overlap (the loop's and a first Check's).
	roundSlot chan struct{}
	// ownHTTP is the HTTP client this service made, closed on Stop; nil if given one.
	ownHTTP *http.Client

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	stopped chan struct{}
}

// New validates cfg and builds the service. Nothing runs until Start.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("health config: %w", err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	targets := serviceTargets(cfg.Services, logger)
	registry := deps.Registry
	if !cfg.ProvidersFromRegistry {
		registry = nil
	}
	if deps.Conns == nil && (registry != nil || needsGRPC(targets)) {
		return nil, errors.New("health: Deps.Conns is required to check gRPC services and providers")
	}
	s := &Service{
		logger:    logger,
		interval:  cfg.CheckInterval,
		latest:    latest.New(),
		roundSlot: make(chan struct{}, 1),
		stopped:   make(chan struct{}),
	}
	httpClient := deps.HTTPClient
	if httpClient == nil {
		s.ownHTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		httpClient = s.ownHTTP
	}
	s.checker = checker.New(checker.Settings{
		Services: targets,
		Registry: registry,
		Conns:    deps.Conns,
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

// errStopped is returned by Start after Stop, and ends watches.
var errStopped = errors.New("health checker stopped")

// Start starts the checker loop, which runs a round at once and then every
// check_interval. It returns at once. ctx only carries values: Stop ends the loop.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopped:
		return fmt.Errorf("health: start: %w", errStopped)
	default:
	}
	if s.cancel != nil {
		return errors.New("health: already started")
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.done = make(chan struct{})
	go s.loop(loopCtx, s.done)
	return nil
}

// Stop ends the loop and open watches, and waits for the loop (bounded by ctx).
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	select {
	case <-s.stopped:
	default:
		close(s.stopped)
	}
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if s.ownHTTP != nil {
		defer s.ownHTTP.CloseIdleConnections()
	}
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("health: stop: %w", ctx.Err())
	}
}

func (s *Service) loop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		if _, err := s.round(ctx, false); err != nil {
			return // only when ctx ended
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
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
