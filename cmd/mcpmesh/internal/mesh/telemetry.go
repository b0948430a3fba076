package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/buildinfo"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
)

// telemetryShutdownTimeout bounds the final flush of spans. It is separate from the
// gRPC drain so that a slow drain does not leave nothing for the flush.
const telemetryShutdownTimeout = 5 * time.Second

// Option adjusts how New builds a mesh.
type Option func(*options)

type options struct {
	build    buildinfo.Info
	logLevel *slog.LevelVar
	// For tests: spans go to spanExporter; table changes the module table; onStop
	// hears each module's stop begin.
	spanExporter sdktrace.SpanExporter
	table        func([]module) []module
	onStop       func(module string)
}

// WithBuild names the binary's build: its version is serverInfo.version for MCP
// clients, the version of /v1/health and service.version on traces, and all of it
// the labels of mcpmesh_build_info.
func WithBuild(b buildinfo.Info) Option { return func(o *options) { o.build = b } }

// WithSpanExporter sends every span of the process to exp, synchronously, whatever
// the OTEL_* variables say (tests record spans in memory with it).
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return func(o *options) { o.spanExporter = exp }
}

// WithLogLevel lets the admin listener read and change the process's log level.
func WithLogLevel(lv *slog.LevelVar) Option { return func(o *options) { o.logLevel = lv } }

// ServiceName is the service.name of a process running cfg's targets:
// "mcpmesh-all" for the whole mesh, else "mcpmesh-" and the targets joined by "+".
func ServiceName(cfg meshconfig.Config) string {
	targets := cfg.Targets()
	if len(targets) == len(meshconfig.Services) {
		return "mcpmesh-" + meshconfig.TargetAll
	}
	return "mcpmesh-" + strings.Join(targets, "+")
}

func setupTelemetry(cfg meshconfig.Config, logger *slog.Logger, o options) (*telemetry.Telemetry, error) {
	tel, err := telemetry.Setup(context.Background(), telemetry.Settings{
		ServiceName:  ServiceName(cfg),
		Build:        o.build,
		Logger:       logger,
		SampleRatio:  cfg.Telemetry.SampleRatio,
		SpanExporter: o.spanExporter,
	})
	if err != nil {
		return nil, fmt.Errorf("set up telemetry: %w", err)
	}
	if tel.Exporting() {
		logger.Info("exporting traces as the OTEL_* environment says", "service_name", ServiceName(cfg), "sample_ratio", cfg.Telemetry.SampleRatio)
	}
	return tel, nil
}

// newAdminServer serves /metrics for processes whose metrics no gateway serves, and
// /loglevel (GET to read, PUT with debug, info, warn or error to change) when lv is
// set. It belongs on a private address; admin.auth.bearer_token_file adds a credential.
func newAdminServer(tel *telemetry.Telemetry, logger *slog.Logger, lv *slog.LevelVar) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.MetricsHandler())
	if lv != nil {
		mux.HandleFunc("GET /loglevel", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, strings.ToLower(lv.Level().String())+"\n")
		})
		mux.HandleFunc("PUT /loglevel", func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 64))
			if err != nil {
				http.Error(w, "read body", http.StatusBadRequest)
				return
			}
			level, err := logging.ParseLevel(strings.TrimSpace(string(body)))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			old := lv.Level()
			lv.Set(level)
			logger.InfoContext(r.Context(), "log level changed", "from", old.String(), "to", level.String())
			_, _ = io.WriteString(w, strings.ToLower(level.String())+"\n")
		})
	}
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// AdminAddress is the bound address of the admin listener ("" when there is none).
func (m *Mesh) AdminAddress() string {
	if m.adminLis == nil {
		return ""
	}
	return m.adminLis.Addr().String()
}

// serveAdmin serves the admin listener until the admin module stops.
func (m *Mesh) serveAdmin() error {
	serve := m.admin.Serve
	if m.admin.TLSConfig != nil {
		// The certificate comes from TLSConfig (reloaded files), not from arguments.
		serve = func(l net.Listener) error { return m.admin.ServeTLS(l, "", "") }
	}
	if err := serve(m.adminLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve admin HTTP on %s: %w", m.adminLis.Addr(), err)
	}
	return nil
}

// shutdownTelemetry flushes spans, bounded by its own timer.
func (m *Mesh) shutdownTelemetry(ctx context.Context) {
	if m.tel == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryShutdownTimeout)
	defer cancel()
	if err := m.tel.Shutdown(ctx); err != nil {
		m.logger.Warn("telemetry flush incomplete", "error", err)
	}
}

// listenAdmin binds the admin listener when admin.listen is set.
func (m *Mesh) listenAdmin() error {
	if m.cfg.Admin.Listen == "" {
		return nil
	}
	lis, err := listen("admin HTTP", m.cfg.Admin.Listen, "-admin.listen")
	if err != nil {
		return err
	}
	m.adminLis = lis
	m.admin = newAdminServer(m.tel, m.logger, m.opts.logLevel)
	m.adminRoutes, _ = m.admin.Handler.(*http.ServeMux)
	if path := m.cfg.Admin.Auth.BearerTokenFile; path != "" {
		token, err := newBearerFile(path)
		if err != nil {
			return err
		}
		m.admin.Handler = requireBearer(token, m.admin.Handler)
	}
	if c := m.cfg.Admin.TLS.Meshtls(); c.Enabled() {
		files, err := meshtls.Load(c, m.logger)
		if err != nil {
			return fmt.Errorf("admin.tls: %w", err)
		}
		if m.admin.TLSConfig, err = meshtls.ServerConfig(files, "h2", "http/1.1"); err != nil {
			return fmt.Errorf("admin.tls: %w", err)
		}
		if len(c.AllowedPeers) > 0 {
			m.admin.Handler = requirePeer(c.AllowedPeers, m.admin.Handler)
		}
	}
	return nil
}
