// Package mesh wires the targets of one mcpmesh process together: one gRPC server for
// every gRPC service the process runs, the gateway's HTTP server, and connections to
// peers. Services in the same process talk through the in-process channel, with no
// network hop; the others through gRPC over the network.
//
// The process is a table of modules with declared dependencies (modules.go): its
// targets resolve to a dependency-ordered list, started in order and stopped in
// reverse. A module that fails to start stops those already started; a module that
// fails later brings the whole process down.
package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"
	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/everything"
	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/apikeydb"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
	"github.com/mcpmesh/mcpmesh/services/kit/namedservice"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
	"github.com/mcpmesh/mcpmesh/services/session"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// Mesh is one process's set of running modules.
type Mesh struct {
	cfg    meshconfig.Config
	logger *slog.Logger
	opts   options
	tel    *telemetry.Telemetry

	grpcServer *grpcserver.Server
	grpcLis    net.Listener
	httpLis    net.Listener
	adminLis   net.Listener // nil unless admin.listen is set
	admin      *http.Server
	// adminRoutes is the admin listener's mux, inside its credential checks (nil
	// without admin.listen).
	adminRoutes *http.ServeMux
	// upstreamAdminServed is set when adminRoutes serve the upstream admin API.
	upstreamAdminServed bool
	dialer              *dial.Dialer
	db                  *pgxpool.Pool // nil when state is in memory
	// schemaCurrent is set once the database's tables were seen current.
	schemaCurrent atomic.Bool
	clients       clients

	// assertionKeys sign provider assertions (session) and are published (gateway).
	assertionKeys assertionKeySet

	// Built by the modules' init functions, for the modules that need each other.
	session    *session.Service
	federation *federation.Service
	provider   *everything.Provider
	// providers is the ProviderService of the process (nil when it serves none).
	providers *namedservice.Mux
	gateway   *gateway.Service
	// apiKeys is the copy of the database's API keys the gateway reads (nil: the
	// keys are in auth.api_keys.file, or the gateway does not take them).
	apiKeys *apikeydb.Follower

	// modules are the process's modules, dependencies first.
	modules []runningModule
	// grpcServed closes when the gRPC server stops serving; grpcServing tells
	// whether it ever started.
	grpcServed  chan struct{}
	grpcServing bool
	grpcDrained bool // the grpc-server module has stopped the server
	grpcMu      sync.Mutex

	// shutdown bounds the stopping of every module (see shutdownContext).
	shutdownMu     sync.Mutex
	shutdownCtx    context.Context
	cancelShutdown context.CancelFunc
}

// runningModule is a module of the table with its built service.
type runningModule struct {
	name string
	svc  *lifecycle.Service
}

// New resolves the modules of cfg's targets, binds their listeners and builds their
// services, so that Addresses is valid as soon as New returns. Nothing serves until
// Run.
func New(cfg meshconfig.Config, logger *slog.Logger, opts ...Option) (_ *Mesh, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	m := &Mesh{cfg: cfg, logger: logger, opts: o, grpcServed: make(chan struct{})}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	table := moduleTable()
	if o.table != nil {
		table = o.table(table)
	}
	mods, err := resolve(table, cfg)
	if err != nil {
		return nil, err
	}
	if m.tel, err = setupTelemetry(cfg, logger, o); err != nil {
		return nil, err
	}
	if err := m.listenAdmin(); err != nil {
		return nil, err
	}
	security, err := newTransportSecurity(cfg, logger)
	if err != nil {
		return nil, err
	}
	// Network and in-process hops are recorded alike, by one recorder (kit/rpcstats)
	// of the spans and metrics otelgrpc records: as stats handlers over the network,
	// inside the in-process channel in process.
	if cfg.RunsGRPC() {
		m.grpcServer = grpcserver.New(grpcserver.Settings{
			Logger:          logger,
			DefaultDeadline: cfg.GRPC.DefaultDeadline,
			StatsHandler:    m.tel.GRPCServerStatsHandler(),
			InProcessTelemetry: grpcserver.InProcessTelemetry{
				TracerProvider: m.tel.TracerProvider(),
				MeterProvider:  m.tel.MeterProvider(),
			},
			ExtraOptions: security.serverOptions,
		})
		if m.grpcLis, err = listen("gRPC", cfg.GRPC.Listen, "-grpc.listen"); err != nil {
			return nil, err
		}
	}
	var local grpc.ClientConnInterface
	if m.grpcServer != nil {
		local = m.grpcServer.InProcess()
	}
	m.dialer = dial.New(local, append(security.dialOptions, m.tel.GRPCDialOption())...)
	if m.db, err = openDatabase(context.Background(), cfg, logger); err != nil {
		return nil, err
	}
	if m.db != nil {
		if err := pgdb.ObservePool(m.db, "mcpmesh", m.tel.MeterProvider()); err != nil {
			return nil, fmt.Errorf("database metrics: %w", err)
		}
	}
	m.clients = newClients(cfg, func(target string) (grpc.ClientConnInterface, error) {
		if cfg.Runs(target) {
			return m.dialer.Conn(dial.InProcessScheme)
		}
		return m.dialer.Peer(cfg.PeerAddress(target))
	})
	if m.assertionKeys, err = assertionKeys(cfg, logger); err != nil {
		return nil, err
	}
	if cfg.Runs(meshconfig.TargetGateway) {
		if m.httpLis, err = listen("HTTP", cfg.Gateway.Listen, "-gateway.listen"); err != nil {
			return nil, err
		}
	}
	for _, mod := range mods {
		svc, err := mod.init(m)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", mod.name, err)
		}
		m.modules = append(m.modules, runningModule{name: mod.name, svc: svc})
	}
	return m, nil
}

// telemetryFor is the telemetry bundle of one service of the process.
func (m *Mesh) telemetryFor(service string) kit.TelemetrySettings {
	return m.tel.Settings(m.logger).For(service)
}

// listen binds addr for the kind of server, and says in one line what to do when the
// port is taken.
func listen(kind, addr, flag string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("the %s address %s is in use (another mcpmesh running?): choose another with %s (port 0 picks a free one)", kind, addr, flag)
	case err != nil:
		return nil, fmt.Errorf("listen for %s on %s: %w", kind, addr, err)
	}
	return lis, nil
}

// clients are the generated clients of every peer, in process or remote.
type clients struct {
	transport transportv1.TransportServiceClient
	session   sessionv1.SessionServiceClient
	registry  registryv1.RegistryServiceClient
	health    healthv1.HealthServiceClient
	// healthProbe checks the grpc.health.v1 status of the transport, for readiness.
	healthProbe healthpb.HealthClient
	// sessionProbe checks the session service's, so that readiness blames it (not the
	// transport that depends on it) when it is the one down.
	sessionProbe healthpb.HealthClient
}

func newClients(cfg meshconfig.Config, conn func(string) (grpc.ClientConnInterface, error)) clients {
	var c clients
	get := func(target string) grpc.ClientConnInterface {
		if !cfg.Runs(target) && cfg.PeerAddress(target) == "" {
			return nil // not needed by this process (Validate checked the ones needed)
		}
		cc, err := conn(target)
		if err != nil {
			return nil
		}
		return cc
	}
	if cc := get(meshconfig.TargetTransport); cc != nil {
		c.transport = transportv1.NewTransportServiceClient(cc)
		c.healthProbe = healthpb.NewHealthClient(cc)
	}
	if cc := get(meshconfig.TargetSession); cc != nil {
		c.session = sessionv1.NewSessionServiceClient(cc)
		c.sessionProbe = healthpb.NewHealthClient(cc)
	}
	if cc := get(meshconfig.TargetRegistry); cc != nil {
		c.registry = registryv1.NewRegistryServiceClient(cc)
	}
	if cc := get(meshconfig.TargetHealth); cc != nil {
		c.health = healthv1.NewHealthServiceClient(cc)
	}
	return c
}

// Addresses returns the bound gRPC and HTTP addresses ("" when not served).
func (m *Mesh) Addresses() (grpcAddr, httpAddr string) {
	if m.grpcLis != nil {
		grpcAddr = m.grpcLis.Addr().String()
	}
	if m.httpLis != nil {
		httpAddr = m.httpLis.Addr().String()
	}
	return grpcAddr, httpAddr
}

// Run starts the modules in dependency order and serves until ctx ends or a module
// fails, then stops them in reverse order (see moduleTable for the resulting shutdown
// sequence) and releases the process's resources. When a module fails to start, the
// ones already started are stopped and the error names it; when one fails later (or
// ends by itself), the process shuts down and Run returns its cause.
func (m *Mesh) Run(ctx context.Context) error {
	for i, mod := range m.modules {
		if err := mod.svc.Start(ctx); err != nil {
			startErr := m.startError(ctx, mod.name, err)
			m.shutdown(m.modules[:i+1])
			return startErr
		}
	}
	var runErr error
	if failed := m.awaitEndOrFailure(ctx); failed != nil {
		cause := failed.svc.FailureCause()
		if cause == nil {
			cause = errors.New("stopped by itself")
		}
		m.logger.Error("module failed; shutting the process down", "module", failed.name, "error", cause)
		runErr = fmt.Errorf("module %s failed: %w", failed.name, cause)
	} else {
		m.logger.Info("shutting down")
	}
	m.shutdown(m.modules)
	return runErr
}

// startError reports that module did not start: nil when ctx ended (the process was
// asked to stop while starting), else the error that names the module.
func (m *Mesh) startError(ctx context.Context, module string, err error) error {
	if ctx.Err() != nil {
		m.logger.Info("shutting down before every module started", "module", module)
		return nil //nolint:nilerr // asked to stop while starting: not a failure
	}
	m.logger.Error("module failed to start; stopping the modules already started", "module", module, "error", err)
	return fmt.Errorf("start %s: %w", module, err)
}

// awaitEndOrFailure waits until ctx ends (nil) or a module terminates (that module).
func (m *Mesh) awaitEndOrFailure(ctx context.Context) *runningModule {
	cases := make([]reflect.SelectCase, 0, len(m.modules)+1)
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	for _, mod := range m.modules {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(mod.svc.Terminated())})
	}
	chosen, _, _ := reflect.Select(cases)
	if chosen == 0 {
		return nil
	}
	return &m.modules[chosen-1]
}

// shutdown stops mods in reverse order, bounded by grpc.shutdown_timeout, then
// releases what the process holds.
func (m *Mesh) shutdown(mods []runningModule) {
	ctx := m.shutdownContext()
	for i := len(mods) - 1; i >= 0; i-- {
		mod := mods[i]
		if m.opts.onStop != nil {
			m.opts.onStop(mod.name)
		}
		alreadyFailed := mod.svc.State() == lifecycle.Failed // reported by Run
		if err := mod.svc.Stop(ctx); err != nil && !alreadyFailed {
			m.logger.Warn("module stop incomplete", "module", mod.name, "error", err)
		}
	}
	m.Close()
}

// shutdownContext bounds every module's stop, from the first stop on (a module that
// fails by itself may stop before the rest).
func (m *Mesh) shutdownContext() context.Context {
	m.shutdownMu.Lock()
	defer m.shutdownMu.Unlock()
	if m.shutdownCtx == nil {
		m.shutdownCtx, m.cancelShutdown = context.WithTimeout(context.Background(), m.cfg.GRPC.ShutdownTimeout)
	}
	return m.shutdownCtx
}

// Close releases what the process holds: listeners (so their ports can be bound
// again), the gRPC server's workers and connections, the database pool, and
// telemetry (flushed, bounded by its own timer). Run calls it at the end; call it
// yourself for a mesh that will not Run.
func (m *Mesh) Close() {
	for _, l := range []net.Listener{m.grpcLis, m.httpLis, m.adminLis} {
		if l != nil {
			_ = l.Close()
		}
	}
	m.grpcMu.Lock()
	drained := m.grpcDrained
	m.grpcMu.Unlock()
	if m.grpcServer != nil && !drained {
		m.grpcServer.Stop() // never served (a failed start): stop at once, without a drain warning
	}
	if m.dialer != nil {
		if err := m.dialer.Close(); err != nil {
			m.logger.Warn("closing connections", "error", err)
		}
	}
	if m.db != nil {
		m.db.Close()
	}
	m.shutdownTelemetry(context.Background())
	m.shutdownMu.Lock()
	if m.cancelShutdown != nil {
		m.cancelShutdown()
	}
	m.shutdownMu.Unlock()
}
