package gateway

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/mcpmesh/mcpmesh/gen/openapi"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/auth"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/httpmetrics"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/mcphttp"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/probes"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/ratelimit"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/rest"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
)

// routes is what the router needs.
type routes struct {
	mcp     *mcphttp.Handler
	probes  *probes.State
	metrics *httpmetrics.Metrics
	limiter *ratelimit.Limiter
	authn   *authentication
	// perPrincipal bounds each caller; nil when off.
	perPrincipal *ratelimit.PerPrincipal
	deps         Deps
	logger       *slog.Logger
	maxBody      int64 // bounds POST bodies on /mcp and /v1
	// virtual are the names of the virtual servers (see virtualservers.go).
	virtual []string
}

// newRouter lays out the gateway's HTTP surface. Every route is instrumented under its
// pattern, so metric labels stay bounded whatever paths clients send. /mcp and /v1 are
// rate limited (inside the instrumentation, so rejections are counted and logged) and
// access-logged, and authenticated inside the rate limit (a flood of bad tokens is
// refused before it costs signature checks). Probes, /openapi.json and the
// protected-resource metadata stay open: they reveal nothing a caller could misuse, and
// clients need the metadata before they hold a token.
func newRouter(r routes) (http.Handler, error) {
	restMux, err := rest.NewMux(rest.Clients{
		Registry: r.deps.Registry,
		Health:   r.deps.Health,
		Session:  r.deps.Session,
	}, rest.Options{Logger: r.logger, OnRoute: httpmetrics.SetRoute, MaxBodyBytes: r.maxBody, Denied: r.authn.deniedREST})
	if err != nil {
		return nil, fmt.Errorf("gateway REST API: %w", err)
	}

	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.Handler) {
		mux.Handle(pattern, r.metrics.Instrument(route, h))
	}
	perSecond := r.limiter.PerSecond()
	rejectMCP := func(w http.ResponseWriter, _ *http.Request, retryAfter int) {
		mcphttp.WriteTooManyRequests(w, perSecond, retryAfter)
	}
	rejectREST := func(w http.ResponseWriter, _ *http.Request, retryAfter int) {
		rest.WriteTooManyRequests(w, perSecond, retryAfter)
	}
	principalMCP := func(w http.ResponseWriter, _ *http.Request, reason string) {
		mcphttp.WriteTooManyRequestsBecause(w, reason)
	}
	principalREST := func(w http.ResponseWriter, _ *http.Request, reason string) {
		rest.WriteTooManyRequestsBecause(w, reason)
	}
	// The replica's bucket first (cheap, shared), then authentication, then the caller's
	// own limits (keyed by the principal authentication found).
	limitMCP := func(h http.Handler) http.Handler {
		return r.limiter.Wrap(ratelimit.RouteMCP, r.authn.authn.Wrap(r.perPrincipal.Wrap(h, principalMCP)), rejectMCP)
	}
	mcp := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, r.metrics.InstrumentLogged("/mcp", limitMCP(h)))
	}
	mcp("POST /mcp", r.mcp.Post)
	mcp("GET /mcp", r.mcp.Get)
	mcp("DELETE /mcp", r.mcp.Delete)
	// Any other method: 405 with Allow (CORS preflight will take OPTIONS later).
	mcp("/mcp", r.mcp.MethodNotAllowed)
	// The 2024-11-05 HTTP+SSE transport, for older clients.
	legacy := func(pattern, route string, h http.HandlerFunc) {
		mux.Handle(pattern, r.metrics.InstrumentLogged(route, limitMCP(h)))
	}
	legacy("GET /sse", "/sse", r.mcp.LegacySSE)
	legacy("POST /messages", "/messages", r.mcp.LegacyMessages)

	mux.Handle("/v1/", r.metrics.InstrumentLogged("/v1/", r.limiter.Wrap(ratelimit.RouteREST, r.authn.authn.Wrap(r.perPrincipal.Wrap(restMux, principalREST)), rejectREST)))

	// Virtual servers: the same handlers behind the same limits, each name with the
	// authenticator whose challenges name its metadata; the replica's rate limit comes
	// before the name is looked up, authentication after.
	metadata, insertedMetadata, err := r.authn.addVirtualServers(r.virtual)
	if err != nil {
		return nil, err
	}
	perServer := func(h http.Handler, principalLimited func(http.ResponseWriter, *http.Request, string)) map[string]http.Handler {
		out := make(map[string]http.Handler, len(r.virtual))
		for _, name := range r.virtual {
			out[name] = r.authn.byVirtualServer[name].Wrap(r.perPrincipal.Wrap(h, principalLimited))
		}
		return out
	}
	mcpVirtual := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, r.metrics.InstrumentLogged("/mcp/{server}", r.limiter.Wrap(ratelimit.RouteMCP, byVirtualServer(perServer(h, principalMCP), notFoundMCP), rejectMCP)))
	}
	mcpVirtual("POST /mcp/{server}", r.mcp.Post)
	mcpVirtual("GET /mcp/{server}", r.mcp.Get)
	mcpVirtual("DELETE /mcp/{server}", r.mcp.Delete)
	mcpVirtual("/mcp/{server}", r.mcp.MethodNotAllowed)
	mux.Handle("/v1/servers/{server}/", r.metrics.InstrumentLogged("/v1/servers/{server}/", r.limiter.Wrap(ratelimit.RouteREST,
		byVirtualServer(perServer(underVirtualServer(restMux), principalREST), notFoundREST), rejectREST)))
	handle("GET /openapi.json", "/openapi.json", http.HandlerFunc(serveOpenAPI))
	handle("GET /healthz", "/healthz", http.HandlerFunc(r.probes.Healthz))
	handle("GET /readyz", "/readyz", http.HandlerFunc(r.probes.Readyz))
	handle("GET /startupz", "/startupz", http.HandlerFunc(r.probes.Startupz))
	if r.authn.metadata != nil {
		for _, p := range r.authn.metadataPaths {
			handle("GET "+p, auth.MetadataPath, r.authn.metadata)
		}
		handle("GET "+auth.MetadataPath+"/mcp/{server}", auth.MetadataPath+"/mcp/{server}", byVirtualServer(metadata, notFoundMetadata))
		for p, h := range insertedMetadata {
			handle("GET "+p, auth.MetadataPath+"/mcp/{server}", h)
		}
	}
	if r.deps.AssertionKeys != nil {
		handle("GET "+assertion.JWKSPath, assertion.JWKSPath, serveJWKS(r.deps.AssertionKeys))
	}
	if r.deps.MetricsHandler != nil {
		handle("GET /metrics", "/metrics", r.deps.MetricsHandler)
	}
	// Everything else: one route for all unknown paths.
	handle("/", "/", http.NotFoundHandler())
	return mux, nil
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi.JSON)
}
