// Package rest builds the REST/JSON API under /v1/: a grpc-gateway mux over the
// registry, health and session clients, with protojson output (MCP JSON carried raw,
// see rawjson.go), a body limit, and an error handler that never shows internal
// details to callers. Calls (tools, resources, prompts) go to the session service,
// the same dispatcher as /mcp; listings and providers to the registry.
package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"google.golang.org/grpc/codes"
)

// Clients are the services the REST API fronts. A nil client leaves its routes out
// (they answer 404).
type Clients struct {
	Registry registryv1.RegistryServiceClient
	Health   healthv1.HealthServiceClient
	Session  sessionv1.SessionServiceClient
}

// Options tune the mux.
type Options struct {
	Logger *slog.Logger
	// OnRoute is told the route pattern of each matched request (for metrics labels).
	OnRoute func(w http.ResponseWriter, route string)
	// MaxBodyBytes bounds a request body (413 beyond); zero means no limit.
	MaxBodyBytes int64
	// Denied, when set, answers an error that is an authorization denial and reports
	// true; other errors get the usual answer.
	Denied func(w http.ResponseWriter, r *http.Request, err error) bool
}

// NewMux returns the REST handler: the grpc-gateway mux with every REST route
// registered, behind the body limit.
func NewMux(c Clients, o Options) (http.Handler, error) {
	opts := []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, openJSONMarshaler{newRawJSON()}),
		runtime.WithErrorHandler(errorHandler(o.Logger, o.Denied)),
		runtime.WithIncomingHeaderMatcher(forwardedHeader),
	}
	if o.OnRoute != nil {
		opts = append(opts, runtime.WithMiddlewares(routeMiddleware(o.OnRoute)))
	}
	mux := runtime.NewServeMux(opts...)
	// The context of Register*HandlerClient is only used by the *FromEndpoint variants
	// to close their connection; the client variants ignore it.
	ctx := context.Background()
	if c.Registry != nil {
		if err := registryv1.RegisterRegistryServiceHandlerClient(ctx, mux, c.Registry); err != nil {
			return nil, fmt.Errorf("register registry REST routes: %w", err)
		}
	}
	if c.Health != nil {
		if err := healthv1.RegisterHealthServiceHandlerClient(ctx, mux, c.Health); err != nil {
			return nil, fmt.Errorf("register health REST routes: %w", err)
		}
	}
	if c.Session != nil {
		if err := sessionv1.RegisterSessionServiceHandlerClient(ctx, mux, c.Session); err != nil {
			return nil, fmt.Errorf("register session REST routes: %w", err)
		}
	}
	if o.MaxBodyBytes <= 0 {
		return mux, nil
	}
	return limitBody(mux, o.MaxBodyBytes), nil
}

// limitBody reads a request body whole, up to limit bytes, before the mux sees it, and
// refuses one that is not UTF-8 (400):
// beyond the limit the answer is 413, as on /mcp (the mux's decoders would turn a
// truncated body into a 400).
func limitBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			WriteTooLarge(w, limit)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				WriteTooLarge(w, limit)
				return
			case err != nil:
				writeError(w, http.StatusBadRequest, codes.InvalidArgument, "request body could not be read")
				return
			case !utf8.Valid(body):
				// JSON text is UTF-8 (RFC 8259 §8.1); the decoders would replace invalid
				// bytes with U+FFFD and the tool would get altered arguments, as on /mcp.
				writeError(w, http.StatusBadRequest, codes.InvalidArgument, "request body is not valid UTF-8")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// routeMiddleware reports the matched pattern. grpc-gateway wraps each registered
// handler separately, so the label is computed once per route, not per request.
func routeMiddleware(onRoute func(http.ResponseWriter, string)) runtime.Middleware {
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		var label atomic.Pointer[string]
		return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
			l := label.Load()
			if l == nil {
				s := "/v1/"
				if p, ok := runtime.HTTPPattern(r.Context()); ok {
					s = p.String()
				}
				label.Store(&s)
				l = &s
			}
			onRoute(w, *l)
			next(w, r, params)
		}
	}
}

// forwardedHeader is grpc-gateway's default choice of HTTP headers passed on as gRPC
// metadata, without the caller's credentials: the client's token never leaves the
// gateway (the principal travels instead, see kit/principal). The default forwards no
// Grpc-Metadata-* header, so a client cannot write the entries the services trust
// (the principal, the virtual server; TestVirtualServerRoutes checks it over gRPC).
func forwardedHeader(key string) (string, bool) {
	switch strings.ToLower(key) {
	case "authorization", "proxy-authorization", "cookie":
		return "", false
	}
	return runtime.DefaultHeaderMatcher(key)
}
