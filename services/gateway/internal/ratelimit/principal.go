package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/time/rate"
)

// PrincipalReject answers a request over a principal's limit; reason says which
// (a sentence for the caller). Retry-After is already set.
type PrincipalReject func(w http.ResponseWriter, r *http.Request, reason string)

// PerPrincipal bounds each principal (kit/principal in the request context, keyed by
// Key(); requests without one count as principal.Anonymous) to its own token bucket
// and its own number of requests at once, on top of the replica's bucket. Long-lived
// GET streams are exempt from the concurrency bound, so a standing stream does not
// take a slot from the principal's calls.
type PerPrincipal struct {
	perSec      float64
	burst       int
	concurrency int
	rejected    metric.Int64Counter

	mu      sync.Mutex
	entries map[string]*principalState
}

type principalState struct {
	bucket *rate.Limiter // nil: no rate limit
	active int
}

// maxIdleEntries bounds the table: past it, principals with nothing in flight and a
// full bucket (who would start afresh anyway) are dropped.
const maxIdleEntries = 4096

// NewPerPrincipal returns the limiter (perSec 0: no rate bound; concurrency 0: no
// concurrency bound) and its counter mcpmesh.gateway.principal_limited (attribute
// limit: rate or concurrency). Nil when neither bound is set.
func NewPerPrincipal(perSec float64, burst, concurrency int, mp metric.MeterProvider) (*PerPrincipal, error) {
	if perSec <= 0 && concurrency <= 0 {
		return nil, nil
	}
	rejected, err := mp.Meter(instrumentationName).Int64Counter("mcpmesh.gateway.principal_limited",
		metric.WithUnit("{request}"),
		metric.WithDescription("Requests the gateway rejected with 429 because their principal was over its own limit, by limit (rate, concurrency)."))
	if err != nil {
		return nil, err
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(perSec)))
	}
	return &PerPrincipal{perSec: perSec, burst: burst, concurrency: concurrency, rejected: rejected, entries: map[string]*principalState{}}, nil
}

// Wrap applies the principal's limits to h. A nil limiter returns h.
func (l *PerPrincipal) Wrap(h http.Handler, reject PrincipalReject) http.Handler {
	if l == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal.FromContext(r.Context())
		if !ok || p == nil {
			p = principal.Anonymous
		}
		counts := r.Method != http.MethodGet
		release, limit, retryAfter := l.admit(p.Key(), counts)
		if limit != "" {
			l.rejected.Add(r.Context(), 1, metric.WithAttributes(attribute.String("limit", limit)))
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			reject(w, r, l.reason(limit, retryAfter))
			return
		}
		defer release()
		h.ServeHTTP(w, r)
	})
}

// admit takes a token and, when counts, a concurrency slot for key. It returns the
// function that gives the slot back, or the limit that refused ("rate" or
// "concurrency") with the seconds to wait.
func (l *PerPrincipal) admit(key string, counts bool) (release func(), limit string, retryAfter int) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.entries[key]
	if st == nil {
		l.evictIdleLocked(now)
		st = &principalState{}
		if l.perSec > 0 {
			st.bucket = rate.NewLimiter(rate.Limit(l.perSec), l.burst)
		}
		l.entries[key] = st
	}
	if counts && l.concurrency > 0 && st.active >= l.concurrency {
		return nil, "concurrency", 1
	}
	if st.bucket != nil && !st.bucket.AllowN(now, 1) {
		secs := int(math.Ceil((1 - st.bucket.TokensAt(now)) / l.perSec))
		return nil, "rate", max(1, secs)
	}
	if !counts || l.concurrency <= 0 {
		return func() {}, "", 0
	}
	st.active++
	return func() {
		l.mu.Lock()
		st.active--
		l.mu.Unlock()
	}, "", 0
}

func (l *PerPrincipal) evictIdleLocked(now time.Time) {
	if len(l.entries) < maxIdleEntries {
		return
	}
	for k, st := range l.entries {
		if st.active == 0 && (st.bucket == nil || st.bucket.TokensAt(now) >= float64(l.burst)) {
			delete(l.entries, k)
		}
	}
}

func (l *PerPrincipal) reason(limit string, retryAfter int) string {
	after := "; retry after " + strconv.Itoa(retryAfter) + " s (Retry-After header)"
	if limit == "concurrency" {
		return "Too Many Requests: at most " + strconv.Itoa(l.concurrency) + " requests at once per caller" + after
	}
	return "Too Many Requests: at most " + strconv.FormatFloat(l.perSec, 'g', -1, 64) + " requests per second per caller" + after
}

// active reports the slots key holds, for tests.
func (l *PerPrincipal) active(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.entries[key]; st != nil {
		return st.active
	}
	return 0
}
