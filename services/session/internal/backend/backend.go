// Package backend builds what the session service's handlers work on, in one place:
// every store in memory or in PostgreSQL (session records behind a read cache, the
// event log, pending client answers, task records), the LISTEN connection with its
// NOTIFY handlers, the circuit breakers, the catalogue watcher, the routing of
// server-initiated messages (changes.go) and the dispatcher that uses them all.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
	"github.com/mcpmesh/mcpmesh/services/session/internal/audit"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
	"github.com/mcpmesh/mcpmesh/services/session/internal/fanout"
	"github.com/mcpmesh/mcpmesh/services/session/internal/pending"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
	"github.com/mcpmesh/mcpmesh/services/session/internal/resourcewatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"github.com/mcpmesh/mcpmesh/services/session/internal/tasks"
	"github.com/mcpmesh/mcpmesh/services/session/internal/vserver"
	"google.golang.org/grpc"
)

// Settings are the knobs of the backend, taken from the service config.
type Settings struct {
	SessionIdleTimeout time.Duration
	// ReadCacheTTL keeps session records read from PostgreSQL this long (0: no cache).
	ReadCacheTTL time.Duration
	// ReadCacheFence makes a session's own writes visible to its next request on every
	// replica (store.CacheOptions.Fence; 0: off).
	ReadCacheFence     time.Duration
	EventsPerSession   int
	EventRetention     time.Duration
	NotifyPollInterval time.Duration
	Breaker            breaker.Settings
	Dispatch           dispatch.Settings
	Tasks              tasks.Settings
}

// Deps are the backend's collaborators.
type Deps struct {
	Logger   *slog.Logger
	Registry registryv1.RegistryServiceClient
	Conns    dispatch.Conns
	// DB keeps every store in PostgreSQL, shared by the replicas; nil keeps them in
	// this process's memory.
	DB *pgxpool.Pool
	// ObserveProviderCalls is told how each provider call ended (nil: not observed).
	ObserveProviderCalls dispatch.ProviderCallObserver
	// EventsAppended counts server-initiated events recorded in the event log (nil:
	// not counted).
	EventsAppended func(ctx context.Context, n int)
	// Policy, Audit and Identity are the dispatcher's (see dispatch.Deps).
	Policy   func() *policy.Policy
	Audit    *audit.Logger
	Identity func(provider string, conn grpc.ClientConnInterface) grpc.ClientConnInterface
	// VirtualServers are the dispatcher's (see dispatch.Deps).
	VirtualServers func() *vserver.Set
}

// Backend is the wired state of one session replica.
type Backend struct {
	Store store.Store
	// Memory is the in-memory session store (nil with a database).
	Memory *store.Memory
	// Events keeps the server-initiated messages of stateful sessions for their GET
	// streams; Waker wakes those streams on this replica.
	Events events.Log
	Waker  *events.Waker
	// Listeners are the subscriptions/listen requests open on this replica.
	Listeners *fanout.Hub
	// Pending correlates server-to-client requests with the clients' answers.
	Pending pending.Store
	// With a database: the shared pending store (its loop claims answers for this
	// replica) and the LISTEN connection that wakes this replica's readers and
	// waiters when another replica appends an event, delivers an answer, changes a
	// task or a session, or cancels a call. Both nil without.
	PendingPG *pending.Postgres
	Listener  *pgnotify.Listener
	Tasks     *tasks.Runner
	// Watcher follows the registry's catalogue.
	Watcher  *catalogue.Watcher
	Breakers *breaker.Breakers
	// Dispatcher runs MCP requests on all of the above.
	Dispatcher *dispatch.Dispatcher

	settings       Settings
	logger         *slog.Logger
	conns          dispatch.Conns
	eventsAppended func(ctx context.Context, n int)
	// resources hears resource changes from providers (nil until WatchResources).
	resources atomic.Pointer[resourcewatch.Watcher]
}

// cancelChannel carries notifications/cancelled to the replica running the call.
const cancelChannel = "mcpmesh_session_cancel"

// readCacheMax bounds the sessions a replica keeps cached (about 400 bytes each).
const readCacheMax = 100_000

// New wires the backend: PostgreSQL for every store when deps.DB is set, memory
// otherwise.
func New(s Settings, deps Deps) (*Backend, error) {
	if deps.Registry == nil || deps.Conns == nil || deps.Logger == nil {
		return nil, errors.New("session backend: Registry, Conns and Logger are required")
	}
	logger := deps.Logger
	breakers, err := breaker.New(s.Breaker, breaker.Options{IsFailure: isProviderFailure})
	if err != nil {
		return nil, fmt.Errorf("session backend: %w", err)
	}
	b := &Backend{
		Waker:          events.NewWaker(),
		Listeners:      fanout.New(),
		Watcher:        catalogue.NewWatcher(deps.Registry, logger),
		Breakers:       breakers,
		settings:       s,
		logger:         logger,
		conns:          deps.Conns,
		eventsAppended: deps.EventsAppended,
	}
	if b.eventsAppended == nil {
		b.eventsAppended = func(context.Context, int) {}
	}
	var (
		taskStore    tasks.Store
		cached       *store.Cached // nil with the cache off
		aliveChannel string        // the cache's heartbeats; empty with the cache off
		cancelPeers  func(string)
	)
	if db := deps.DB; db != nil {
		b.Store = store.NewPostgres(db, s.SessionIdleTimeout, time.Now)
		if s.ReadCacheTTL > 0 {
			// Every change announces itself to the other replicas' caches.
			aliveChannel = store.AliveChannelName()
			b.Store = store.NewPostgres(db, s.SessionIdleTimeout, time.Now, store.WithChangeNotify(store.ChangedChannel))
			cached = store.NewCached(b.Store,
				store.CacheOptions{TTL: s.ReadCacheTTL, MaxEntries: readCacheMax, Idle: s.SessionIdleTimeout,
					Fence: s.ReadCacheFence, DB: db, AliveChannel: aliveChannel,
					// Without heartbeats the cache is bypassed, not wrong: debug level.
					OnError: func(err error) { logger.Debug("session read cache bypassed", "error", err) }})
			b.Store = cached
		}
		b.Events = events.NewPostgres(db, s.EventsPerSession, b.Waker, time.Now)
		b.PendingPG = pending.NewPostgres(db, time.Now, logger)
		b.Pending = b.PendingPG
		taskStore = tasks.NewPostgres(db, time.Now)
		cancelPeers = func(payload string) {
			// notifications/cancelled has no answer: a lost announcement only lets the
			// call run to its end.
			if _, err := db.Exec(context.Background(), `SELECT pg_notify($1, $2)`, cancelChannel, payload); err != nil {
				logger.Warn("announce a cancellation to the other replicas", "error", err)
			}
		}
	} else {
		b.Memory = store.NewMemory(s.SessionIdleTimeout, time.Now)
		b.Store = b.Memory
		b.Events = events.NewMemory(s.EventsPerSession, b.Waker, time.Now)
		b.Pending = pending.NewMemory()
		taskStore = tasks.NewMemory(time.Now)
	}
	// A task's status changes and progress go to its session's GET stream through the
	// event log.
	b.Tasks = tasks.NewRunner(taskStore, s.Tasks, func(ctx context.Context, sessionID, method string, params []byte) {
		if err := b.Events.Append(ctx, sessionID, events.Draft{Method: method, Params: params}); err != nil && ctx.Err() == nil {
			logger.WarnContext(ctx, "queue a task notification", "session_id", sessionID, "method", method, "error", err)
		}
	})
	// subscriptions/listen streams that follow a task hear of its changes.
	b.Tasks.OnChange(func(id string) { b.Listeners.Publish(fanout.Notice{Task: id}) })
	b.Dispatcher = dispatch.New(s.Dispatch, dispatch.Deps{
		Catalogue:            b.Watcher.Current,
		Store:                b.Store,
		Conns:                deps.Conns,
		Logger:               logger,
		Guard:                guardWith(breakers),
		ObserveProviderCalls: deps.ObserveProviderCalls,
		Listeners:            b.Listeners,
		Pending:              b.Pending,
		CancelPeers:          cancelPeers,
		Tasks:                b.Tasks,
		Policy:               deps.Policy,
		Audit:                deps.Audit,
		Identity:             deps.Identity,
		VirtualServers:       deps.VirtualServers,
	})
	if deps.DB != nil {
		handlers := map[string]pgnotify.Handler{
			events.NotifyChannel:  b.Waker.Wake,         // payload: a session id
			pending.NotifyChannel: b.PendingPG.Notified, // payload: pending.EncodePayload
			tasks.NotifyChannel:   b.Tasks.Notified,     // payload: tasks.EncodePayload
			store.ChangedChannel:  cached.Invalidate,    // payload: a session id
			cancelChannel:         b.Dispatcher.CancelFromPeer,
		}
		if aliveChannel != "" {
			handlers[aliveChannel] = cached.Heard // payload: the heartbeat's send time
		}
		b.Listener = pgnotify.NewFromPool(deps.DB, pgnotify.Settings{
			Handlers: handlers,
			// After every (re)connect and every poll: NOTIFY is not durable, so catch
			// up on whatever may have been missed.
			OnResync: func() {
				b.Waker.WakeAll()
				b.PendingPG.Resync()
				b.Tasks.Resync()
				cached.InvalidateAll()
			},
			PollInterval: s.NotifyPollInterval,
			Logger:       logger,
		})
	}
	b.Watcher.OnChange(b.catalogueChanged)
	return b, nil
}

// WatchResources starts hearing the providers' resource changes, until ctx ends; the
// catalogue watch keeps the set of providers current.
func (b *Backend) WatchResources(ctx context.Context) *resourcewatch.Watcher {
	w := resourcewatch.New(ctx, b.conns, b.logger, b.resourceChanged)
	b.resources.Store(w)
	return w
}

// Sweep removes what expired: sessions, old events, task records and, with a
// database, pending answers older than any request can wait.
func (b *Backend) Sweep(ctx context.Context, now time.Time) {
	n, err := b.Store.SweepExpired(ctx, now)
	if err != nil && ctx.Err() == nil {
		b.logger.WarnContext(ctx, "sweep expired sessions", "error", err)
	}
	if n > 0 {
		b.logger.DebugContext(ctx, "swept expired sessions", "count", n)
	}
	if _, err := b.Events.Sweep(ctx, now.Add(-b.settings.EventRetention)); err != nil && ctx.Err() == nil {
		b.logger.WarnContext(ctx, "sweep old events", "error", err)
	}
	n, err = b.Tasks.Store().Sweep(ctx)
	if err != nil && ctx.Err() == nil {
		b.logger.WarnContext(ctx, "sweep expired tasks", "error", err)
	}
	if n > 0 {
		b.logger.DebugContext(ctx, "swept expired tasks", "count", n)
	}
	if b.PendingPG != nil {
		if _, err := b.PendingPG.Sweep(ctx, now.Add(-b.settings.SessionIdleTimeout)); err != nil && ctx.Err() == nil {
			b.logger.WarnContext(ctx, "sweep pending answers", "error", err)
		}
	}
}
