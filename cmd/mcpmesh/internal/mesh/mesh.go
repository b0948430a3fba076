// Package mesh wires the targets of one mcpmesh process together: one gRPC server for
// every gRPC service the process runs, the gateway's HTTP server, and connections to
// peers. Services in the same process talk through the in-process channel, with no
// network hop; the others through gRPC over the network.
package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/everything"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/health"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
	"github.com/mcpmesh/mcpmesh/services/registry"
	"github.com/mcpmesh/mcpmesh/services/session"
	"github.com/mcpmesh/mcpmesh/services/transport"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// lifecycle is what every gRPC service of the mesh implements besides its RPCs.
type lifecycle interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Mesh is one process's set of running targets.
type Mesh struct {
	cfg    meshconfig.Config
	logger *slog.Logger

	grpcServer *grpcserver.Server
	grpcLis    net.Listener
	httpLis    net.Listener
	dialer     *dial.Dialer
	gateway    *gateway.Service
	services   []lifecycle // in start order
	session    *session.Service
	provider   *everything.Provider
	registry   registryv1.RegistryServiceClient
	db         *pgxpool.Pool // nil when state is in memory
	tel        *telemetry.Telemetry
	adminLis   net.Listener // nil unless admin.listen is set
	opts       options
	admin      *http.Server
}

// New builds the targets of cfg and binds their listeners, so that Addresses is valid
// as soon as New returns. Nothing serves until Run.
func New(cfg meshconfig.Config, logger *slog.Logger, opts ...Option) (_ *Mesh, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	m := &Mesh{cfg: cfg, logger: logger, opts: o}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.tel, err = setupTelemetry(cfg, logger, o); err != nil {
		return nil, err
	}
	if err := m.listenAdmin(); err != nil {
		return nil, err
	}
	if cfg.RunsGRPC() {
		m.grpcServer = grpcserver.New(grpcserver.Settings{
			Logger:          logger,
			DefaultDeadline: cfg.GRPC.DefaultDeadline,
			ExtraOptions:    []grpc.ServerOption{m.tel.GRPCServerOption()},
		})
		if m.grpcLis, err = net.Listen("tcp", cfg.GRPC.Listen); err != nil {
			return nil, fmt.Errorf("listen for gRPC on %s: %w", cfg.GRPC.Listen, err)
		}
	}
	var local grpc.ClientConnInterface
	if m.grpcServer != nil {
		local = m.grpcServer.InProcess()
	}
	m.dialer = dial.New(local, m.tel.GRPCDialOption())
	if m.db, err = openDatabase(context.Background(), cfg, logger); err != nil {
		return nil, err
	}
	if m.db != nil {
		if err := pgdb.ObservePool(m.db, "mcpmesh", m.tel.MeterProvider()); err != nil {
			return nil, fmt.Errorf("database metrics: %w", err)
		}
	}

	conn := func(target string) (grpc.ClientConnInterface, error) {
		if cfg.Runs(target) {
			return m.dialer.Conn(dial.InProcessScheme)
		}
		return m.dialer.Conn(cfg.PeerAddress(target))
	}
	clients, err := newClients(cfg, conn)
	if err != nil {
		return nil, err
	}
	m.registry = clients.registry

	for _, target := range cfg.Targets() {
		if err := m.build(target, clients); err != nil {
			return nil, fmt.Errorf("build %s: %w", target, err)
		}
	}
	if cfg.Runs(meshconfig.TargetGateway) {
		if m.httpLis, err = net.Listen("tcp", cfg.Gateway.Listen); err != nil {
			return nil, fmt.Errorf("listen for HTTP on %s: %w", cfg.Gateway.Listen, err)
		}
	}
	return m, nil
}

// clients are the generated clients of every peer, in process or remote.
type clients struct {
	transport transportv1.TransportServiceClient
	session   sessionv1.SessionServiceClient
	registry  registryv1.RegistryServiceClient
	health    healthv1.HealthServiceClient
	// healthProbe checks the grpc.health.v1 status of the transport, for readiness.
	healthProbe healthpb.HealthClient
}

func newClients(cfg meshconfig.Config, conn func(string) (grpc.ClientConnInterface, error)) (clients, error) {
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
	}
	if cc := get(meshconfig.TargetRegistry); cc != nil {
		c.registry = registryv1.NewRegistryServiceClient(cc)
	}
	if cc := get(meshconfig.TargetHealth); cc != nil {
		c.health = healthv1.NewHealthServiceClient(cc)
	}
	return c, nil
}

func (m *Mesh) build(target string, c clients) error {
	cfg, logger := m.cfg, m.logger
	switch target {
	case meshconfig.TargetRegistry:
		s, err := registry.New(cfg.Registry, registry.Deps{Logger: logger.With("service", "registry"), Conns: m.dialer, DB: m.db})
		if err != nil {
			return err
		}
		if err := registry.Observe(s, m.tel.MeterProvider()); err != nil {
			return err
		}
		s.Register(m.grpcServer)
		m.services = append(m.services, s)
	case meshconfig.TargetProviderEverything:
		p, err := everything.New(cfg.Everything, everything.Deps{Logger: logger.With("service", "provider-everything")})
		if err != nil {
			return err
		}
		p.Register(m.grpcServer)
		m.provider = p
		m.services = append(m.services, p) // its Stop ends the resource watch streams
	case meshconfig.TargetSession:
		s, err := session.New(cfg.Session, session.Deps{
			Logger: logger.With("service", "session"), Registry: c.registry, Conns: m.dialer, DB: m.db,
			Telemetry: session.Telemetry{TracerProvider: m.tel.TracerProvider(), MeterProvider: m.tel.MeterProvider()},
		})
		if err != nil {
			return err
		}
		s.Register(m.grpcServer)
		m.session = s
		m.services = append(m.services, s)
	case meshconfig.TargetTransport:
		s, err := transport.New(cfg.Transport, transport.Deps{Logger: logger.With("service", "transport"), Session: c.session})
		if err != nil {
			return err
		}
		s.Register(m.grpcServer)
		m.services = append(m.services, s)
	case meshconfig.TargetHealth:
		hc := cfg.Health
		if len(hc.Services) == 0 {
			hc.Services = m.watchedServices()
		}
		s, err := health.New(hc, health.Deps{Logger: logger.With("service", "health"), Conns: m.dialer, Registry: c.registry})
		if err != nil {
			return err
		}
		s.Register(m.grpcServer)
		m.services = append(m.services, s)
	case meshconfig.TargetGateway:
		s, err := gateway.New(cfg.Gateway, gateway.Deps{
			Logger:    logger.With("service", "gateway"),
			Transport: c.transport,
			Registry:  c.registry,
			Session:   c.session,
			Health:    c.health,
			Ready:     m.readiness(c),
			// The gateway's metrics go through the process's OTel meter provider, and
			// its /metrics shows every metric of the process.
			MeterProvider:  m.tel.MeterProvider(),
			MetricsHandler: m.tel.MetricsHandler(),
			Middleware:     func(h http.Handler) http.Handler { return m.tel.HTTPHandler(h, "mcpmesh.gateway") },
		})
		if err != nil {
			return err
		}
		m.gateway = s
	default:
		return fmt.Errorf("unknown target %q", target)
	}
	return nil
}

// watchedServices is what the health service watches when not configured: every
// service of the mesh, here or at its peer address.
func (m *Mesh) watchedServices() map[string]string {
	out := map[string]string{}
	for _, t := range []string{meshconfig.TargetTransport, meshconfig.TargetSession, meshconfig.TargetRegistry} {
		switch {
		case m.cfg.Runs(t):
			out[t] = dial.InProcessScheme
		case m.cfg.PeerAddress(t) != "":
			out[t] = m.cfg.PeerAddress(t)
		}
	}
	return out
}

// readiness is what the gateway's /readyz checks: the transport answers its health
// check, and an in-process session service has loaded the catalogue.
func (m *Mesh) readiness(c clients) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if m.db != nil {
			if err := pgdb.Ping(ctx, m.db); err != nil {
				return errors.New("database: unreachable")
			}
		}
		if m.session != nil && !m.session.Ready() {
			return errors.New("session: catalogue not loaded yet")
		}
		if c.healthProbe == nil {
			return nil
		}
		resp, err := c.healthProbe.Check(ctx, &healthpb.HealthCheckRequest{Service: transportv1.TransportService_ServiceDesc.ServiceName})
		if err != nil {
			return fmt.Errorf("transport: %w", err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("transport: %s", resp.GetStatus())
		}
		return nil
	}
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

// Run serves until ctx ends, then shuts down in order: readiness off and HTTP drained,
// the provider deregistered, gRPC reported NOT_SERVING, a drain delay for load
// balancers, services stopped, gRPC drained with a hard-stop timer, the admin listener
// closed, connections closed, telemetry flushed (bounded by its own timer).
func (m *Mesh) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for _, s := range m.services {
		if err := s.Start(runCtx); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	}
	stopWatching := m.watchDependencies(runCtx, m.dependencyChecks())
	defer stopWatching()
	if m.grpcServer != nil {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- m.grpcServer.Serve(m.grpcLis) }()
	}
	if m.gateway != nil {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- m.gateway.Serve(m.httpLis) }()
	}
	if m.admin != nil {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- m.serveAdmin() }()
	}
	providerDone := make(chan struct{})
	providerCtx, stopProvider := context.WithCancel(runCtx)
	if m.provider != nil {
		go func() {
			defer close(providerDone)
			addr := m.cfg.Provider.Advertise
			if addr == "" {
				addr = m.grpcLis.Addr().String()
				if m.cfg.Runs(meshconfig.TargetRegistry) {
					addr = dial.InProcessScheme
				}
			}
			if err := everything.KeepRegistered(providerCtx, m.registry, m.cfg.Everything.Name, addr, m.cfg.Provider.Lease, m.logger.With("service", "provider-everything")); err != nil {
				m.logger.Error("provider registration ended", "error", err)
			}
		}()
	} else {
		close(providerDone)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	m.logger.Info("shutting down")
	stopWatching()
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.GRPC.ShutdownTimeout)
	defer cancelShutdown()
	if m.gateway != nil {
		if err := m.gateway.Shutdown(shutdownCtx); err != nil {
			m.logger.Warn("HTTP drain incomplete", "error", err)
		}
	}
	stopProvider()
	<-providerDone
	if m.grpcServer != nil {
		m.grpcServer.SetNotServing()
		if d := m.cfg.GRPC.DrainDelay; d > 0 {
			select {
			case <-time.After(d):
			case <-shutdownCtx.Done():
			}
		}
	}
	// Services end their long-lived streams (catalogue watches, listen streams) on
	// Stop; stopping them before the drain keeps GracefulStop from waiting for streams
	// that would never end by themselves.
	for i := len(m.services) - 1; i >= 0; i-- {
		if err := m.services[i].Stop(shutdownCtx); err != nil {
			m.logger.Warn("service stop incomplete", "error", err)
		}
	}
	if m.grpcServer != nil {
		m.grpcServer.Shutdown(shutdownCtx)
	}
	if m.admin != nil {
		// Last to go, so the final state of the process can still be scraped.
		if err := m.admin.Shutdown(shutdownCtx); err != nil {
			_ = m.admin.Close()
		}
	}
	cancel()
	wg.Wait()
	if err := m.dialer.Close(); err != nil {
		m.logger.Warn("closing connections", "error", err)
	}
	if m.db != nil {
		m.db.Close()
	}
	m.shutdownTelemetry(ctx)
	return runErr
}

// Close releases a mesh that will not Run (or failed to build): listeners, the gRPC
// server's workers and connections.
func (m *Mesh) Close() {
	for _, l := range []net.Listener{m.grpcLis, m.httpLis, m.adminLis} {
		if l != nil {
			_ = l.Close()
		}
	}
	if m.grpcServer != nil {
		stopped, cancel := context.WithCancel(context.Background())
		cancel()
		m.grpcServer.Shutdown(stopped) // a done context stops at once
	}
	if m.dialer != nil {
		_ = m.dialer.Close()
	}
	if m.db != nil {
		m.db.Close()
	}
	m.shutdownTelemetry(context.Background())
}
