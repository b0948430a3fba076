package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
	"github.com/mcpmesh/mcpmesh/services/session/internal/audit"
	"github.com/mcpmesh/mcpmesh/services/session/internal/backend"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/identity"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
	"github.com/mcpmesh/mcpmesh/services/session/internal/tasks"
	"github.com/mcpmesh/mcpmesh/services/session/internal/vserver"
	"google.golang.org/grpc"
)

// Registrar is where the service registers its gRPC implementation
// (kit/grpcserver.Server satisfies it).
type Registrar interface {
	Register(desc *grpc.ServiceDesc, impl any)
}

// Conns hands out connections to providers by address (kit/dial.Dialer satisfies it).
type Conns interface {
	Conn(target string) (grpc.ClientConnInterface, error)
}

// Deps are the service's collaborators.
type Deps struct {
	// Telemetry is where logs, spans and metrics go (telemetry.go); its zero value
	// discards them.
	Telemetry kit.TelemetrySettings
	// Registry is watched for the catalogue and routing table.
	Registry registryv1.RegistryServiceClient
	// Conns reaches providers.
	Conns Conns
	// DB, when set, keeps session records in PostgreSQL (tables created by Migrate),
	// shared by every replica; nil keeps them in this process's memory.
	DB *pgxpool.Pool
	// Version is the binary's version, sent to clients as serverInfo.version; empty
	// means "dev".
	Version string
	// Authorization is the auth.policy, auth.audit and auth.assertion configuration;
	// its zero value allows everything and writes no audit lines.
	Authorization Authorization
	// Assertions signs the identity assertions attached to provider calls; nil sends
	// none. The process builds it from auth.assertion so that its gateway publishes the
	// same keys.
	Assertions *assertion.Signer
	// Replica names this process in audit lines (the host name when empty).
	Replica string
}

// Service implements sessionv1.SessionServiceServer: the gRPC handlers. What they work
// on (stores, dispatcher, watchers) is the backend's.
type Service struct {
	sessionv1.UnimplementedSessionServiceServer
	// Service is the lifecycle: while it runs, the catalogue watch, the resource
	// watches, the sweeper and (with a database) the LISTEN connection and the
	// pending-answer loop run as its goroutines; Stop ends the Listen and
	// subscriptions/listen streams and the tasks, then the loops.
	*lifecycle.Service

	cfg     Config
	logger  *slog.Logger
	backend *backend.Backend
	// observed is the service with every handler traced and measured: what Register
	// registers.
	observed *observed
	// streams are the metrics of the server-message path.
	streams streamMetrics
	now     func() time.Time
	// touchEvery skips last-seen writes for sessions touched more recently: a busy
	// session costs one store write per interval, not one per request.
	touchEvery time.Duration
	// policy is the rule set in force (SetPolicy swaps it); audit writes audit lines
	// (nil: off).
	policy atomic.Pointer[policy.Policy]
	audit  *audit.Logger
	// virtualServers are the virtual servers in force (SetVirtualServers swaps them).
	virtualServers atomic.Pointer[vserver.Set]
}

// New builds the service. Call Start to begin watching the catalogue and sweeping
// sessions.
func New(cfg Config, deps Deps) (*Service, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Registry == nil {
		errs = append(errs, errors.New("session: Deps.Registry is required"))
	}
	if deps.Conns == nil {
		errs = append(errs, errors.New("session: Deps.Conns is required"))
	}
	pol, err := policy.New(deps.Authorization.Policy)
	if err != nil {
		errs = append(errs, err)
	}
	vservers, err := vserver.New(deps.Authorization.VirtualServers)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	tel := deps.Telemetry.WithDefaults()
	logger := tel.Logger
	s := &Service{
		cfg:        cfg,
		logger:     logger,
		now:        time.Now,
		touchEvery: min(time.Second, cfg.SessionIdleTimeout/4),
	}
	s.policy.Store(pol)
	s.virtualServers.Store(vservers)
	replica := deps.Replica
	if replica == "" {
		replica, _ = os.Hostname()
	}
	s.audit, err = audit.Open(deps.Authorization.Audit, replica)
	if err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	var identityWrap func(string, grpc.ClientConnInterface) grpc.ClientConnInterface
	if deps.Assertions != nil {
		identityWrap = identity.New(deps.Assertions).Wrap
	}
	// The instruments come first: the backend reports to them.
	o, err := newObserved(s, tel)
	if err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	s.observed = o
	stateKey, previousStateKey, err := cfg.requestStateKeys()
	if err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	if len(stateKey) == 0 {
		// Fine for one process; with several session replicas the retry of an
		// input_required request may reach another one, which would refuse the token.
		logger.Info("session.request_state_key is not set: a random key signs requestState; set the same key on every replica when running more than one")
	}
	s.backend, err = backend.New(backend.Settings{
		SessionIdleTimeout: cfg.SessionIdleTimeout,
		ReadCacheTTL:       cfg.ReadCacheTTL,
		ReadCacheFence:     cfg.ReadCacheFence,
		EventsPerSession:   cfg.EventsPerSession,
		EventRetention:     cfg.EventRetention,
		NotifyPollInterval: cfg.NotifyPollInterval,
		Breaker:            cfg.Breaker,
		Dispatch: dispatch.Settings{
			ServerVersion:           cmp.Or(deps.Version, "dev"),
			ToolCallTimeout:         cfg.ToolCallTimeout,
			PageSize:                cfg.PageSize,
			CacheTTL:                cfg.CacheTTL,
			RequestStateKey:         stateKey,
			RequestStatePreviousKey: previousStateKey,
			RequestStateTTL:         cfg.RequestStateTTL,
		},
		Tasks: tasks.Settings{
			Timeout:         cfg.TaskTimeout,
			DefaultTTL:      cfg.TaskTTL,
			MaxTTL:          cfg.TaskMaxTTL,
			PollInterval:    cfg.TaskPollInterval,
			MaxPerSession:   cfg.TaskMaxPerSession,
			MaxPerPrincipal: cfg.TaskMaxPerPrincipal,
			MaxRunning:      cfg.TaskMaxRunning,
		},
	}, backend.Deps{
		Logger:               logger,
		Registry:             deps.Registry,
		Conns:                deps.Conns,
		DB:                   deps.DB,
		ObserveProviderCalls: o.observeProviderCall,
		EventsAppended:       s.streams.eventsAppended,
		Policy:               s.currentPolicy,
		Audit:                s.audit,
		Identity:             identityWrap,
		VirtualServers:       s.virtualServers.Load,
	})
	if err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	if err := o.observeBackend(s.backend); err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	s.Service = lifecycle.NewService("session", lifecycle.Funcs{Starting: s.starting})
	return s, nil
}

// Register registers the SessionService, traced and measured.
func (s *Service) Register(r Registrar) {
	r.Register(&sessionv1.SessionService_ServiceDesc, s.observed)
}

// Ready reports whether a catalogue snapshot has arrived from the registry.
func (s *Service) Ready() bool { return s.backend.Watcher.Current() != nil }

// Routes reports whether the catalogue the service serves has the provider name.
func (s *Service) Routes(provider string) bool {
	snap := s.backend.Watcher.Current()
	if snap == nil {
		return false
	}
	_, ok := snap.Providers[provider]
	return ok
}

// starting launches the service's goroutines; they run until Stop.
func (s *Service) starting(ctx context.Context) error {
	b := s.backend
	// Stop ends the long-lived streams and the tasks first: a graceful server drain
	// must not wait for streams that would never end by themselves.
	s.Go(func(ctx context.Context) error {
		<-ctx.Done()
		b.Listeners.Close()
		return b.Tasks.Stop(context.WithoutCancel(ctx))
	})
	// The catalogue watch is what opens and closes the resource watches: they are
	// waited for once it has ended.
	resources := b.WatchResources(ctx)
	s.Go(func(ctx context.Context) error {
		b.Watcher.Run(ctx)
		resources.Wait()
		return nil
	})
	s.Go(func(ctx context.Context) error { s.sweep(ctx); return nil })
	if b.Listener != nil {
		s.Go(func(ctx context.Context) error { b.Listener.Run(ctx); return nil })
		s.Go(func(ctx context.Context) error { b.PendingPG.Run(ctx); return nil })
	}
	return nil
}

// sweep removes expired sessions, events, tasks and answers every SweepInterval.
func (s *Service) sweep(ctx context.Context) {
	ticker := time.NewTicker(s.cfg.SweepInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.backend.Sweep(ctx, s.now())
		}
	}
}
