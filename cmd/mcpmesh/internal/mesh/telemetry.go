package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
)

// telemetryShutdownTimeout bounds the final flush of spans. It is separate from the
// gRPC drain so that a slow drain does not leave nothing for the flush.
const telemetryShutdownTimeout = 5 * time.Second

// Option adjusts how New builds a mesh.
type Option func(*options)

type options struct {
	version string
}

// WithVersion sets the service.version reported with traces and metrics.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

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
		ServiceName: ServiceName(cfg),
		Version:     o.version,
		Logger:      logger,
		SampleRatio: cfg.Telemetry.SampleRatio,
	})
	if err != nil {
		return nil, fmt.Errorf("set up telemetry: %w", err)
	}
	if tel.Exporting() {
		logger.Info("exporting traces as the OTEL_* environment says", "service_name", ServiceName(cfg), "sample_ratio", cfg.Telemetry.SampleRatio)
	}
	return tel, nil
}

// newAdminServer serves /metrics for processes whose metrics no gateway serves.
func newAdminServer(tel *telemetry.Telemetry, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.MetricsHandler())
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

// serveAdmin serves the admin listener until shutdownAdmin.
func (m *Mesh) serveAdmin() error {
	if err := m.admin.Serve(m.adminLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
	lis, err := net.Listen("tcp", m.cfg.Admin.Listen)
	if err != nil {
		return fmt.Errorf("listen for admin HTTP on %s: %w", m.cfg.Admin.Listen, err)
	}
	m.adminLis = lis
	m.admin = newAdminServer(m.tel, m.logger)
	return nil
}
