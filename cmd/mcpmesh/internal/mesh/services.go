package mesh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/sdk/provider"
	"github.com/mcpmesh/mcpmesh/services/everything"
	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/health"
	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
	"github.com/mcpmesh/mcpmesh/services/kit/namedservice"
	"github.com/mcpmesh/mcpmesh/services/registry"
	"github.com/mcpmesh/mcpmesh/services/session"
	"github.com/mcpmesh/mcpmesh/services/transport"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// The init functions of the target modules: each builds its service with the
// process's telemetry bundle and registers its gRPC service.

func (m *Mesh) initRegistry() (*lifecycle.Service, error) {
	s, err := registry.New(m.cfg.Registry, registry.Deps{Telemetry: m.telemetryFor(meshconfig.TargetRegistry), Conns: m.dialer, DB: m.db})
	if err != nil {
		return nil, err
	}
	s.Register(m.grpcServer)
	return s.Service, nil
}

func (m *Mesh) initProvider() (*lifecycle.Service, error) {
	p, err := everything.New(m.cfg.Everything, everything.Deps{Telemetry: m.telemetryFor(meshconfig.TargetProviderEverything)})
	if err != nil {
		return nil, err
	}
	m.providerServer().Set(m.cfg.Everything.Name, p)
	m.provider = p
	return p.Service, nil
}

func (m *Mesh) initSession() (*lifecycle.Service, error) {
	signer, err := m.assertionSigner()
	if err != nil {
		return nil, err
	}
	s, err := session.New(m.cfg.Session, session.Deps{
		Telemetry:     m.telemetryFor(meshconfig.TargetSession),
		Registry:      m.clients.registry,
		Conns:         m.dialer,
		DB:            m.db,
		Version:       m.opts.build.Version,
		Authorization: m.cfg.Authorization(),
		Assertions:    signer,
	})
	if err != nil {
		return nil, err
	}
	s.Register(m.grpcServer) // traced and measured
	m.session = s
	return s.Service, nil
}

func (m *Mesh) initTransport() (*lifecycle.Service, error) {
	s, err := transport.New(m.cfg.Transport, transport.Deps{Telemetry: m.telemetryFor(meshconfig.TargetTransport), Session: m.clients.session})
	if err != nil {
		return nil, err
	}
	s.Register(m.grpcServer)
	return s.Service, nil
}

func (m *Mesh) initHealth() (*lifecycle.Service, error) {
	hc := m.cfg.Health
	if len(hc.Services) == 0 {
		hc.Services = m.watchedServices()
	}
	s, err := health.New(hc, health.Deps{Telemetry: m.telemetryFor(meshconfig.TargetHealth), Conns: m.dialer, Registry: m.clients.registry, Database: m.healthDatabase(), Version: m.opts.build.Version})
	if err != nil {
		return nil, err
	}
	s.Register(m.grpcServer)
	return s.Service, nil
}

func (m *Mesh) initGateway() (*lifecycle.Service, error) {
	var keys apikey.Source
	if m.apiKeys != nil { // a nil *Follower must stay a nil Source
		keys = m.apiKeys
	}
	s, err := gateway.New(m.cfg.GatewayConfig(), gateway.Deps{
		Telemetry: m.telemetryFor(meshconfig.TargetGateway),
		Transport: m.clients.transport,
		Registry:  m.clients.registry,
		Session:   m.clients.session,
		Health:    m.clients.health,
		Ready:     m.readiness(),
		// /metrics shows every metric of the process; with auth on, only on the
		// admin listener.
		MetricsHandler: m.publicMetrics(),
		Middleware:     func(h http.Handler) http.Handler { return m.tel.HTTPHandler(h, "mcpmesh.gateway") },
		AssertionKeys:  m.assertionJWKS(),
		APIKeys:        keys,
	})
	if err != nil {
		return nil, err
	}
	m.gateway = s
	// Its stop turns readiness off, ends the GET streams and drains HTTP.
	return m.servingModule(meshconfig.TargetGateway, func() error { return s.Serve(m.httpLis) }, s.Shutdown), nil
}

// initRegistration keeps the everything provider registered with the registry while
// it runs, and deregisters it when it stops.
func (m *Mesh) initRegistration() (*lifecycle.Service, error) {
	addr := m.providerAddress()
	logger := m.telemetryFor(meshconfig.TargetProviderEverything).Logger
	return lifecycle.NewService(moduleRegistration, lifecycle.Funcs{
		Running: func(ctx context.Context) error {
			// Catalogue changes (the list-change fixtures) reach the registry as refreshes.
			return provider.KeepRegisteredWatching(ctx, m.clients.registry, m.cfg.Everything.Name, addr, m.cfg.Provider.Lease,
				logger, m.provider.CatalogueChanged())
		},
	}), nil
}

// initFederation builds the federation: each upstream is served as a provider on
// this process's ProviderService and registered at its address.
func (m *Mesh) initFederation() (*lifecycle.Service, error) {
	s, err := federation.New(m.cfg.Federation, federation.Deps{
		Telemetry: m.telemetryFor(meshconfig.TargetFederation),
		Registry:  m.clients.registry,
		Providers: m.providerServer(),
		Address:   m.providerAddress(),
		Lease:     m.cfg.Provider.Lease,
		Health:    m.grpcServer.Health(),
		Store:     m.upstreamStore(),
	})
	if err != nil {
		return nil, err
	}
	if err := m.serveUpstreamAdmin(s); err != nil {
		return nil, err
	}
	m.federation = s
	return s.Service, nil
}

// providerServer is the process's ProviderService, created and registered with the
// gRPC server on first use: the everything provider and each federated upstream are
// served on it under their names (the session and registry name the provider of
// every call).
func (m *Mesh) providerServer() *namedservice.Mux {
	if m.providers == nil {
		m.providers = namedservice.New(&providerv1.ProviderService_ServiceDesc)
		m.grpcServer.Register(m.providers.Desc(), m.providers)
	}
	return m.providers
}

// providerAddress is where the registry and the session service reach this
// process's providers: provider.advertise, the in-process channel when the registry
// runs here, else the gRPC listener's address.
func (m *Mesh) providerAddress() string {
	switch {
	case m.cfg.Provider.Advertise != "":
		return m.cfg.Provider.Advertise
	case m.cfg.Runs(meshconfig.TargetRegistry):
		return dial.InProcessScheme
	default:
		return m.grpcLis.Addr().String()
	}
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

// readiness is what the gateway's /readyz checks, from the bottom of the request chain
// up, so that the first failure named is the part that is down: the database (when
// this process uses it), an in-process session service's catalogue, the session
// service's health, then the transport's. Each failure says where the part is and the
// error that reached it ("session (at 10.0.0.5:9090): connection refused").
func (m *Mesh) readiness() func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if m.db != nil {
			if err := m.databaseReady(ctx); err != nil {
				return fmt.Errorf("database: %w", err)
			}
		}
		if m.session != nil && !m.session.Ready() {
			return errors.New("session: catalogue not loaded yet")
		}
		if err := m.federationSettled(); err != nil {
			return err
		}
		if err := m.checkPeer(ctx, m.clients.sessionProbe, meshconfig.TargetSession, sessionv1.SessionService_ServiceDesc.ServiceName); err != nil {
			return err
		}
		return m.checkPeer(ctx, m.clients.healthProbe, meshconfig.TargetTransport, transportv1.TransportService_ServiceDesc.ServiceName)
	}
}

// federationSettled is nil once every provider of an in-process federation has had
// its first attempt (an upstream's first connection, a gRPC service's first reading)
// and each that succeeded is in the in-process session service's catalogue: clients
// that list as soon as the process is ready then see them (a 2026-07-28 client keeps
// its first listing for session.cache_ttl unless it listens for list_changed). A
// provider whose first attempt failed does not hold readiness up; it registers when a
// retry succeeds.
func (m *Mesh) federationSettled() error {
	if m.federation == nil {
		return nil
	}
	running, succeeded := m.federation.FirstAttempts()
	if len(running) > 0 {
		return fmt.Errorf("federation: first connection or reading of %s not done yet", strings.Join(running, ", "))
	}
	if m.session == nil {
		return nil
	}
	for _, name := range succeeded {
		if !m.session.Routes(name) {
			return fmt.Errorf("federation: provider %s is not in the session service's catalogue yet", name)
		}
	}
	return nil
}

// checkPeer asks a service's grpc.health.v1 about service and words a failure for
// people. A nil probe (the service is not needed here) passes.
func (m *Mesh) checkPeer(ctx context.Context, probe healthpb.HealthClient, target, service string) error {
	if probe == nil {
		return nil
	}
	where := target
	if addr := m.cfg.PeerAddress(target); !m.cfg.Runs(target) && addr != "" {
		where += " (at " + addr + ")"
	}
	budget := time.Second
	if deadline, ok := ctx.Deadline(); ok {
		budget = time.Until(deadline).Round(time.Millisecond)
	}
	// Fail fast: a peer connection waits for a ready transport by default, which would
	// turn a closed port into "timeout" instead of the "connection refused" it is.
	resp, err := probe.Check(ctx, &healthpb.HealthCheckRequest{Service: service}, grpc.WaitForReady(false))
	if err != nil {
		return fmt.Errorf("%s: %s", where, health.Describe(ctx, err, budget))
	}
	if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: reports %s (mcpmesh ping names the part behind it)", where, st)
	}
	return nil
}
