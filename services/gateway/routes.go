package gateway

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/mcpmesh/mcpmesh/gen/openapi"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/httpmetrics"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/mcphttp"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/probes"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/rest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is what the router needs.
type routes struct {
	mcp      *mcphttp.Handler
	probes   *probes.State
	metrics  *httpmetrics.Metrics
	registry *prometheus.Registry
	deps     Deps
	logger   *slog.Logger
}

// newRouter lays out the gateway's HTTP surface. Every route is instrumented under its
// pattern, so metric labels stay bounded whatever paths clients send.
func newRouter(r routes) (http.Handler, error) {
	restMux, err := rest.NewMux(rest.Clients{
		Registry: r.deps.Registry,
		Health:   r.deps.Health,
		Session:  r.deps.Session,
	}, rest.Options{Logger: r.logger, OnRoute: httpmetrics.SetRoute})
	if err != nil {
		return nil, fmt.Errorf("gateway REST API: %w", err)
	}

	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.Handler) {
		mux.Handle(pattern, r.metrics.Instrument(route, h))
	}
	handle("POST /mcp", "/mcp", http.HandlerFunc(r.mcp.Post))
	handle("GET /mcp", "/mcp", http.HandlerFunc(r.mcp.Get))
	handle("DELETE /mcp", "/mcp", http.HandlerFunc(r.mcp.Delete))
	// Any other method: 405 with Allow (CORS preflight will take OPTIONS later).
	handle("/mcp", "/mcp", http.HandlerFunc(r.mcp.MethodNotAllowed))

	handle("/v1/", "/v1/", restMux)
	handle("GET /openapi.json", "/openapi.json", http.HandlerFunc(serveOpenAPI))
	handle("GET /healthz", "/healthz", http.HandlerFunc(r.probes.Healthz))
	handle("GET /readyz", "/readyz", http.HandlerFunc(r.probes.Readyz))
	handle("GET /startupz", "/startupz", http.HandlerFunc(r.probes.Startupz))
	handle("GET /metrics", "/metrics", promhttp.HandlerFor(r.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(r.logger.Handler(), slog.LevelWarn),
	}))
	// Everything else: one label for all unknown paths.
	handle("/", "other", http.NotFoundHandler())
	return mux, nil
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi.JSON)
}
