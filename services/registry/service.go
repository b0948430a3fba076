package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/watch"
)

// Conns hands out connections to providers by address; kit/dial.Dialer satisfies it.
type Conns interface {
	Conn(target string) (grpc.ClientConnInterface, error)
}

// Registrar is where the service registers its gRPC implementation;
// kit/grpcserver.Server satisfies it.
type Registrar interface {
	Register(desc *grpc.ServiceDesc, impl any)
}

// Deps are the registry's collaborators.
type Deps struct {
	// Telemetry is where logs and metrics go (the registry's gauges are observed
	// from its MeterProvider); its zero value discards them.
	Telemetry kit.TelemetrySettings
	// Conns reaches providers by address. Required.
	Conns Conns
	// Now is the clock; tests inject one. Defaults to time.Now.
	Now func() time.Time
	// DB, when set, keeps provider records in PostgreSQL (tables created by Migrate),
	// shared by every replica; nil keeps them in this process's memory.
	DB *pgxpool.Pool
}

// Service implements registryv1.RegistryServiceServer.
type Service struct {
	registryv1.UnimplementedRegistryServiceServer
	// Service is the lifecycle: Start launches the background loops, Stop ends them
	// and every open WatchCatalogue stream.
	*lifecycle.Service

	cfg    Config
	log    *slog.Logger
	conns  Conns
	now    func() time.Time
	store  store.Store
	hub    *watch.Hub[*catalogue.Snapshot]
	static map[string]string // name -> address
	shared bool              // records live in a store other replicas write too

	// mu serialises store writes with snapshot rebuilds, so that revisions follow the
	// order of changes. It is never held across a call to a provider.
	mu       sync.Mutex
	revision int64
	// db is the shared store's pool (nil in memory); refresh wakes the refresh loop
	// when another replica announces a change.
	db      *pgxpool.Pool
	refresh chan struct{}
}

var _ registryv1.RegistryServiceServer = (*Service)(nil)

// New validates cfg and builds the service, with its records in deps.DB or in memory.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("registry config: %w", err)
	}
	if deps.Conns == nil {
		return nil, errors.New("registry: Deps.Conns is required")
	}
	tel := deps.Telemetry.WithDefaults()
	if deps.Now == nil {
		deps.Now = time.Now
	}
	static := make(map[string]string, len(cfg.Providers))
	for _, p := range cfg.Providers {
		static[p.Name] = p.Address
	}
	var st store.Store = store.NewMemory()
	if deps.DB != nil {
		st = store.NewPostgres(deps.DB)
	}
	const firstRevision = 1
	empty, _ := catalogue.Build(firstRevision, nil)
	s := &Service{
		cfg:      cfg,
		log:      tel.Logger,
		conns:    deps.Conns,
		now:      deps.Now,
		store:    st,
		shared:   deps.DB != nil,
		hub:      watch.NewHub(empty),
		static:   static,
		revision: firstRevision,
		db:       deps.DB,
		refresh:  make(chan struct{}, 1),
	}
	s.Service = lifecycle.NewService("registry", lifecycle.Funcs{Starting: s.starting, Stopping: s.stopping})
	if err := observe(s, tel.MeterProvider); err != nil {
		return nil, fmt.Errorf("registry metrics: %w", err)
	}
	return s, nil
}

// Register adds the gRPC service to r.
func (s *Service) Register(r Registrar) {
	r.Register(&registryv1.RegistryService_ServiceDesc, s)
}

// starting launches the lease sweeper and describes static providers in the
// background (retrying until each answers): it never fails because a provider is down.
func (s *Service) starting(context.Context) error {
	s.Go(s.sweepLoop)
	if s.shared {
		s.Go(s.refreshLoop)
		listener := s.newListener()
		s.Go(func(ctx context.Context) error { listener.Run(ctx); return nil })
	}
	for _, p := range s.cfg.Providers {
		s.Go(func(ctx context.Context) error { s.describeStatic(ctx, p); return nil })
	}
	return nil
}

// stopping ends every open WatchCatalogue stream, so a graceful server drain is not
// held up by them.
func (s *Service) stopping(error) error {
	s.hub.Close()
	return nil
}

// publishLocked rebuilds the snapshot from the store and hands it to watchers when
// anything routed or listed changed. s.mu must be held.
func (s *Service) publishLocked(ctx context.Context) error {
	records, err := s.store.List(ctx)
	if err != nil {
		return fmt.Errorf("list provider records: %w", err)
	}
	next, report := catalogue.Build(s.revision+1, records)
	if next.SameContent(s.hub.Current()) {
		return nil
	}
	s.revision = next.Revision
	if shadowed := describeShadowed(report); len(shadowed) > 0 {
		// One line per change, not per lookup: clashes persist until a provider changes.
		s.log.WarnContext(ctx, "resources offered by several providers; the provider whose name sorts first serves each",
			"revision", next.Revision, "shadowed", shadowed)
	}
	s.hub.Publish(next)
	return nil
}

// snapshot is the current routed catalogue.
func (s *Service) snapshot() *catalogue.Snapshot { return s.hub.Current() }

// describeShadowed renders URI clashes for the log, e.g. "file:///a (serving alpha; hidden beta)".
func describeShadowed(r catalogue.Report) []string {
	var out []string
	for _, list := range [][]catalogue.Shadowed{r.ShadowedResources, r.ShadowedTemplates} {
		for _, c := range list {
			out = append(out, fmt.Sprintf("%s (serving %s; hidden %s)", c.Key, c.Winner, strings.Join(c.Losers, ", ")))
		}
	}
	return out
}
