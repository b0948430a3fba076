// Package ratelimit bounds the request rate of one gateway replica with one token
// bucket (golang.org/x/time/rate) shared by /mcp and the REST API, and counts what it
// rejects (mcpmesh.gateway.rate_limited, attribute route: mcp or rest).
package ratelimit

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/time/rate"
)

// instrumentationName is the OpenTelemetry scope of the gateway's metrics.
const instrumentationName = "github.com/mcpmesh/mcpmesh/services/gateway"

// Route names the surface a rejected request was for (the counter's route attribute).
type Route string

// The limited routes.
const (
	RouteMCP  Route = "mcp"
	RouteREST Route = "rest"
)

// Reject answers a rejected request; retryAfter is the whole seconds (at least 1) after
// which a token will be free. It must set the status (429) and body; the Retry-After
// header is already set.
type Reject func(w http.ResponseWriter, r *http.Request, retryAfter int)

// Limiter is the replica's token bucket. A nil *rate.Limiter inside means no limit.
type Limiter struct {
	bucket   *rate.Limiter
	perSec   float64
	rejected metric.Int64Counter
	byRoute  map[Route]metric.AddOption
}

// New returns a limiter of requestsPerSecond with burst (0 requestsPerSecond: no
// limit), and creates its counter on mp with both routes at zero, so the series exist
// before the first rejection.
func New(requestsPerSecond float64, burst int, mp metric.MeterProvider) (*Limiter, error) {
	rejected, err := mp.Meter(instrumentationName).Int64Counter("mcpmesh.gateway.rate_limited",
		metric.WithUnit("{request}"),
		metric.WithDescription("Requests the gateway rejected with 429 because its rate limit was reached, by route (mcp, rest)."))
	if err != nil {
		return nil, err
	}
	l := &Limiter{perSec: requestsPerSecond, rejected: rejected, byRoute: map[Route]metric.AddOption{}}
	for _, route := range []Route{RouteMCP, RouteREST} {
		opt := metric.WithAttributeSet(attribute.NewSet(attribute.String("route", string(route))))
		l.byRoute[route] = opt
		rejected.Add(context.Background(), 0, opt)
	}
	if requestsPerSecond > 0 {
		l.bucket = rate.NewLimiter(rate.Limit(requestsPerSecond), burst)
	}
	return l, nil
}

// Wrap lets h serve requests while the bucket has a token; others get Retry-After
// and reject's answer, and are counted under route. With no limit it returns h.
func (l *Limiter) Wrap(route Route, h http.Handler, reject Reject) http.Handler {
	if l.bucket == nil {
		return h
	}
	counted := l.byRoute[route]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.bucket.Allow() {
			h.ServeHTTP(w, r)
			return
		}
		l.rejected.Add(r.Context(), 1, counted)
		retryAfter := l.retryAfter()
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		reject(w, r, retryAfter)
	})
}

// retryAfter is how many whole seconds until the bucket holds a token, at least 1.
func (l *Limiter) retryAfter() int {
	missing := 1 - l.bucket.Tokens()
	secs := int(math.Ceil(missing / l.perSec))
	if secs < 1 {
		return 1
	}
	return secs
}

// PerSecond is the configured rate, for messages.
func (l *Limiter) PerSecond() float64 { return l.perSec }
