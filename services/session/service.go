package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
	"github.com/mcpmesh/mcpmesh/services/session/internal/fanout"
	"github.com/mcpmesh/mcpmesh/services/session/internal/pending"
	"github.com/mcpmesh/mcpmesh/services/session/internal/resourcewatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"github.com/mcpmesh/mcpmesh/services/session/internal/tasks"
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
	Logger *slog.Logger
	// Registry is watched for the catalogue and routing table.
	Registry registryv1.RegistryServiceClient
	// Conns reaches providers.
	Conns Conns
	// DB, when set, keeps session records in PostgreSQL (tables created by Migrate),
	// shared by every replica; nil keeps them in this process's memory.
	DB *pgxpool.Pool
}

// Service implements sessionv1.SessionServiceServer.
type Service struct {
	sessionv1.UnimplementedSessionServiceServer

	cfg        Config
	logger     *slog.Logger
	store      store.Store
	memory     *store.Memory // nil when records live in PostgreSQL
	watcher    *catalogue.Watcher
	dispatcher *dispatch.Dispatcher
	conns      Conns
	// breakers guard the dispatcher's provider calls (see breaker.go).
	breakers *breaker.Breakers
	// events keeps the server-initiated messages of stateful sessions for their GET
	// streams; waker wakes those streams on this replica.
	events events.Log
	waker  *events.Waker
	// listeners are the subscriptions/listen requests open on this replica.
	listeners *fanout.Hub
	// pending correlates server-to-client requests with the clients' answers.
	pending pending.Store
	// With a database: the shared pending store (its loop claims answers for this
	// replica) and the LISTEN connection that wakes this replica's readers and waiters
	// when another replica appends an event or delivers an answer. Both nil without.
	pendingPG *pending.Postgres
	listener  *pgnotify.Listener
	// streams are the metrics of the server-message path (zero: none recorded).
	streams streamMetrics
	// tasks keeps the records of MCP tasks (memory, or PostgreSQL with a database).
	tasks tasks.Store
	// resources hears resource changes from providers (nil until Start).
	resources atomic.Pointer[resourcewatch.Watcher]
	// stopping is closed by Stop, which ends the Listen streams.
	stopping chan struct{}
	now      func() time.Time
	// touchEvery skips last-seen writes for sessions touched more recently: a busy
	// session costs one store write per interval, not one per request.
	touchEvery time.Duration

	mu      sync.Mutex
	cancel  context.CancelFunc
	stopped chan struct{}
}

// cancelChannel carries notifications/cancelled to the replica running the call.
const cancelChannel = "mcpmesh_session_cancel"

// readCacheMax bounds the sessions a replica keeps cached (about 400 bytes each).
const readCacheMax = 100_000

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
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	var (
		st     store.Store
		mem    *store.Memory
		cached *store.Cached // nil without a database or with the cache off
	)
	if deps.DB != nil {
		st = store.NewPostgres(deps.DB, cfg.SessionIdleTimeout, time.Now)
		if cfg.ReadCacheTTL > 0 {
			cached = store.NewCached(st, cfg.ReadCacheTTL, readCacheMax, cfg.SessionIdleTimeout, time.Now, deps.DB,
				func(err error) { logger.Warn("session change not announced to other replicas", "error", err) })
			st = cached
		}
	} else {
		mem = store.NewMemory(cfg.SessionIdleTimeout, time.Now)
		st = mem
	}
	watcher := catalogue.NewWatcher(deps.Registry, logger)
	breakers, err := breaker.New(cfg.Breaker, breaker.Options{IsFailure: isProviderFailure})
	if err != nil {
		return nil, fmt.Errorf("new session service: %w", err)
	}
	waker := events.NewWaker()
	taskStore := newTaskStore(deps.DB)
	var dispatcher *dispatch.Dispatcher // set below; the listener's handlers run after New
	var (
		eventLog  events.Log
		answers   pending.Store
		pendingPG *pending.Postgres
		listener  *pgnotify.Listener
	)
	if deps.DB != nil {
		eventLog = events.NewPostgres(deps.DB, cfg.EventsPerSession, waker, time.Now)
		pendingPG = pending.NewPostgres(deps.DB, time.Now, logger)
		answers = pendingPG
		listener = pgnotify.NewFromPool(deps.DB, pgnotify.Settings{
			Handlers: map[string]pgnotify.Handler{
				events.NotifyChannel:  waker.Wake,         // payload: a session id
				pending.NotifyChannel: pendingPG.Notified, // payload: pending.EncodePayload
				tasks.NotifyChannel:   func(p string) { dispatcher.TaskNotified(p) },
				store.ChangedChannel:  func(id string) { cached.Invalidate(id) },
				cancelChannel:         func(p string) { dispatcher.CancelFromPeer(p) },
			},
			// After every (re)connect and every poll: NOTIFY is not durable, so catch
			// up on whatever may have been missed.
			OnResync: func() {
				waker.WakeAll()
				pendingPG.Resync()
				dispatcher.ResyncTasks()
				cached.InvalidateAll()
			},
			PollInterval: cfg.NotifyPollInterval,
			Logger:       logger,
		})
	} else {
		eventLog = events.NewMemory(cfg.EventsPerSession, waker, time.Now)
		answers = pending.NewMemory()
	}
	s := &Service{
		cfg:        cfg,
		logger:     logger,
		store:      st,
		memory:     mem,
		watcher:    watcher,
		conns:      deps.Conns,
		breakers:   breakers,
		events:     eventLog,
		waker:      waker,
		listeners:  fanout.New(),
		pending:    answers,
		pendingPG:  pendingPG,
		listener:   listener,
		stopping:   make(chan struct{}),
		now:        time.Now,
		touchEvery: min(time.Second, cfg.SessionIdleTimeout/4),
	}
	if cfg.RequestStateKey == "" {
		// Fine for one process; with several session replicas the retry of an
		// input_required request may reach another one, which would refuse the token.
		logger.Info("session.request_state_key is not set: a random key signs requestState; set the same key on every replica when running more than one")
	}
	s.dispatcher = dispatch.New(dispatch.Settings{
		ServerVersion:   cfg.ServerVersion,
		ToolCallTimeout: cfg.ToolCallTimeout,
		PageSize:        cfg.PageSize,
		CacheTTL:        cfg.CacheTTL,
		RequestStateKey: []byte(cfg.RequestStateKey),
		RequestStateTTL: cfg.RequestStateTTL,
	}, watcher.Current, st, deps.Conns, logger)
	s.dispatcher.GuardProviderCalls(guardWith(breakers))
	s.dispatcher.UseListeners(s.listeners)
	s.dispatcher.UsePending(s.pending)
	if deps.DB != nil {
		s.dispatcher.UseCancelPeers(func(payload string) {
			// notifications/cancelled has no answer: a lost announcement only lets the
			// call run to its end.
			if _, err := deps.DB.Exec(context.Background(), `SELECT pg_notify($1, $2)`, cancelChannel, payload); err != nil {
				logger.Warn("announce a cancellation to the other replicas", "error", err)
			}
		})
	}
	dispatcher = s.dispatcher
	s.useTasks(taskStore)
	watcher.OnChange(s.catalogueChanged)
	return s, nil
}

// Register registers the SessionService.
func (s *Service) Register(r Registrar) {
	r.Register(&sessionv1.SessionService_ServiceDesc, s)
}

// Ready reports whether a catalogue snapshot has arrived from the registry.
func (s *Service) Ready() bool { return s.watcher.Current() != nil }

// Start launches the catalogue watch and the session sweeper and returns at once.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return errors.New("session service already started")
	}
	// The loops outlive the start-up context: only Stop ends them.
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.stopped = make(chan struct{})
	resources := resourcewatch.New(loopCtx, s.conns, s.logger, s.resourceChanged)
	s.resources.Store(resources)
	var wg sync.WaitGroup
	wg.Go(func() { s.watcher.Run(loopCtx) })
	wg.Go(func() { s.sweep(loopCtx) })
	if s.listener != nil {
		wg.Go(func() { s.listener.Run(loopCtx) })
		wg.Go(func() { s.pendingPG.Run(loopCtx) })
	}
	go func() {
		wg.Wait()
		resources.Wait()
		close(s.stopped)
	}()
	return nil
}

// Stop ends the long-lived streams (Listen, subscriptions/listen) and the loops and
// waits for the loops, at most until ctx ends.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, stopped := s.cancel, s.stopped
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
	s.mu.Unlock()
	s.listeners.Close()
	tasksErr := s.dispatcher.StopTasks(ctx)
	if cancel == nil {
		return tasksErr
	}
	cancel()
	select {
	case <-stopped:
		return tasksErr
	case <-ctx.Done():
		return fmt.Errorf("stop session service: %w", ctx.Err())
	}
}

// sweep removes expired sessions every SweepInterval.
func (s *Service) sweep(ctx context.Context) {
	ticker := time.NewTicker(s.cfg.SweepInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			n, err := s.store.SweepExpired(ctx, s.now())
			if err != nil && ctx.Err() == nil {
				s.logger.WarnContext(ctx, "sweep expired sessions", "error", err)
			}
			if n > 0 {
				s.logger.DebugContext(ctx, "swept expired sessions", "count", n)
			}
			if _, err := s.events.Sweep(ctx, s.now().Add(-s.cfg.EventRetention)); err != nil && ctx.Err() == nil {
				s.logger.WarnContext(ctx, "sweep old events", "error", err)
			}
			s.sweepTasks(ctx)
			if s.pendingPG != nil {
				// Older than any request can wait for its client's answer.
				if _, err := s.pendingPG.Sweep(ctx, s.now().Add(-s.cfg.SessionIdleTimeout)); err != nil && ctx.Err() == nil {
					s.logger.WarnContext(ctx, "sweep pending answers", "error", err)
				}
			}
		}
	}
}
