// Package rest builds the REST/JSON API under /v1/: a grpc-gateway mux over the
// registry, health and session clients, with protojson output and an error handler that
// never shows internal details to callers.
package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"google.golang.org/protobuf/encoding/protojson"
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
}

// NewMux returns the grpc-gateway mux with every REST route registered.
func NewMux(c Clients, o Options) (*runtime.ServeMux, error) {
	opts := []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: false, UseProtoNames: false},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
		}),
		runtime.WithErrorHandler(errorHandler(o.Logger)),
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
	return mux, nil
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
