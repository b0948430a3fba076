package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/httpmetrics"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/httpsec"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/mcphttp"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/probes"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/ratelimit"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
)

// Deps are the gateway's collaborators.
type Deps struct {
	// Telemetry is where logs and metrics go (kit/telemetry's meter provider, whose
	// Prometheus exporter serves them); its zero value discards them.
	Telemetry kit.TelemetrySettings
	// Transport serves /mcp. Required.
	Transport transportv1.TransportServiceClient
	// Registry, Session and Health back the REST API; a nil client leaves its routes
	// out (they answer 404).
	Registry registryv1.RegistryServiceClient
	Session  sessionv1.SessionServiceClient
	Health   healthv1.HealthServiceClient
	// Ready is what /readyz checks besides the gateway's own state, for example the
	// other services of this process. Nil means always ready.
	Ready func(ctx context.Context) error
	// MetricsHandler serves GET /metrics (kit/telemetry's MetricsHandler, so the page
	// shows every metric of the process). Nil leaves /metrics out (404).
	MetricsHandler http.Handler
	// Middleware, when set, wraps the whole HTTP surface (outermost), for example
	// with kit/telemetry's HTTPHandler (the server span).
	Middleware func(http.Handler) http.Handler
	// AssertionKeys are the keys that sign the identity assertions providers receive
	// (kit/assertion's KeySet or FileKeys, from auth.assertion), whose JWKS is served
	// at assertion.JWKSPath. Nil leaves the route out (404).
	AssertionKeys JWKSSource
	// APIKeys are the API keys when they are kept in the database (cfg.Auth's
	// APIKeysInDatabase): an apikey.Follower the caller runs. Nil without a database,
	// where the gateway reads auth.api_keys.file itself.
	APIKeys apikey.Source
}

// Service is the HTTP edge. It holds no state another replica would need.
type Service struct {
	cfg     Config
	logger  *slog.Logger
	handler http.Handler
	server  *http.Server
	probes  *probes.State
	// stopStreams ends long-lived GET streams when shutdown begins.
	stopStreams context.CancelFunc
}

// New builds the gateway. It does not listen: call Serve.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	if deps.Transport == nil {
		return nil, errors.New("gateway: Deps.Transport is required")
	}
	tel := deps.Telemetry.WithDefaults()
	logger := tel.Logger
	// Access-log lines carry the trace and span ids of their request (a no-op when
	// the logger already does).
	logger = slog.New(logging.WithTraceIDs(logger.Handler()))
	mp := tel.MeterProvider
	var accessLog *slog.Logger
	if cfg.AccessLog {
		accessLog = logger
	}
	metrics, err := httpmetrics.New(mp, accessLog)
	if err != nil {
		return nil, fmt.Errorf("gateway metrics: %w", err)
	}
	limiter, err := ratelimit.New(cfg.RateLimit.RequestsPerSecond, cfg.RateLimit.burst(), mp)
	if err != nil {
		return nil, fmt.Errorf("gateway rate limit: %w", err)
	}

	authn, err := newAuthentication(cfg.Auth, cfg.Listen, deps.APIKeys, logger)
	if err != nil {
		return nil, fmt.Errorf("gateway auth: %w", err)
	}
	perPrincipal, err := ratelimit.NewPerPrincipal(cfg.Limits.PerPrincipal.RPS, cfg.Limits.PerPrincipal.Burst, cfg.Limits.PerPrincipal.Concurrency, mp)
	if err != nil {
		return nil, fmt.Errorf("gateway per-principal limits: %w", err)
	}
	var tlsConfig *tls.Config
	if cfg.TLS.CertFile != "" {
		files, err := meshtls.Load(meshtls.Config{CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile, ClientAuth: meshtls.ClientAuthNone}, logger)
		if err != nil {
			return nil, fmt.Errorf("gateway.tls: %w", err)
		}
		if tlsConfig, err = meshtls.ServerConfig(files, "h2", "http/1.1"); err != nil {
			return nil, fmt.Errorf("gateway.tls: %w", err)
		}
	}

	streamsCtx, stopStreams := context.WithCancel(context.Background())
	s := &Service{
		cfg:         cfg,
		logger:      logger,
		probes:      probes.New(deps.Ready),
		stopStreams: stopStreams,
	}
	mcp := mcphttp.New(mcphttp.Config{
		MaxBodyBytes:      cfg.MaxBodyBytes,
		AllowedOrigins:    cfg.AllowedOrigins,
		AllowedHosts:      cfg.AllowedHosts,
		LoopbackBind:      mcphttp.IsLoopbackListen(cfg.Listen),
		KeepaliveInterval: cfg.KeepaliveInterval,
		MaxActive:         cfg.Admission.MaxInFlightPerCPU * runtime.GOMAXPROCS(0),
		ActiveHold:        cfg.Admission.QueueTimeout,
		Denied:            authn.deniedMCP,
	}, logger, deps.Transport, metrics.StreamsOpen(), streamsCtx)
	handler, err := newRouter(routes{
		mcp:          mcp,
		probes:       s.probes,
		metrics:      metrics,
		limiter:      limiter,
		perPrincipal: perPrincipal,
		authn:        authn,
		deps:         deps,
		logger:       logger,
		maxBody:      cfg.MaxBodyBytes,
		virtual:      cfg.VirtualServers,
	})
	if err != nil {
		stopStreams()
		return nil, err
	}
	handler = httpsec.Wrap(handler, httpsec.CORS{AllowedOrigins: cfg.CORS.AllowedOrigins})
	if deps.Middleware != nil {
		handler = deps.Middleware(handler)
	}
	s.handler = handler
	s.server = &http.Server{
		Addr:              cfg.Listen,
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		TLSConfig:         tlsConfig,
		// No WriteTimeout: SSE streams stay open for as long as the session wants.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler is the gateway's whole HTTP surface, for tests and for embedding.
func (s *Service) Handler() http.Handler { return s.handler }

// Serve accepts connections on lis until Shutdown; it returns nil after a shutdown.
func (s *Service) Serve(lis net.Listener) error {
	s.probes.MarkStarted()
	s.logger.Info("gateway serving", "address", lis.Addr().String())
	serve := s.server.Serve
	if s.server.TLSConfig != nil {
		// The certificate comes from TLSConfig (reloaded files), not from arguments.
		serve = func(l net.Listener) error { return s.server.ServeTLS(l, "", "") }
	}
	if err := serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve HTTP on %s: %w", lis.Addr(), err)
	}
	return nil
}

// Shutdown turns readiness off, keeps accepting for drain_delay (so balancers see it
// before the listener closes), ends the GET streams (clients resume them with
// Last-Event-ID on another replica) and drains in-flight requests for at most
// shutdown_timeout (or until ctx ends), then closes what is left.
func (s *Service) Shutdown(ctx context.Context) error {
	s.probes.MarkStopping()
	if d := s.cfg.DrainDelay; d > 0 {
		s.logger.InfoContext(ctx, "gateway not ready; draining after the delay", "drain_delay", d)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	s.stopStreams()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.server.Shutdown(ctx); err != nil {
		s.logger.WarnContext(ctx, "gateway drain timed out; closing connections", "error", err)
		if cerr := s.server.Close(); cerr != nil {
			return errors.Join(fmt.Errorf("drain HTTP: %w", err), fmt.Errorf("close HTTP: %w", cerr))
		}
		return fmt.Errorf("drain HTTP: %w", err)
	}
	return nil
}
