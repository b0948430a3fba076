package httpmetrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrumentationName is the OpenTelemetry scope of the gateway's metrics.
const instrumentationName = "github.com/mcpmesh/mcpmesh/services/gateway"

// Metrics holds the gateway's instruments.
type Metrics struct {
	requests metric.Int64Counter
	duration metric.Float64Histogram
	streams  metric.Int64UpDownCounter
	// accessLog receives one line per request on logged routes; nil logs none.
	accessLog *slog.Logger

	mu sync.RWMutex
	// Attribute sets are built once per label combination, so the hot path neither
	// hashes nor allocates them; kept as slices so that passing them as variadic
	// options allocates nothing either.
	counterOpts map[counterKey][]metric.AddOption
	timerOpts   map[timerKey][]metric.RecordOption
}

type counterKey struct {
	route, method string
	code          int
}

type timerKey struct{ route, method string }

// New creates the gateway's instruments on mp. Their Prometheus names are
// mcpmesh_http_requests_total, mcpmesh_http_request_duration_seconds and
// mcpmesh_mcp_streams_open. accessLog, when not nil, receives the access log.
func New(mp metric.MeterProvider, accessLog *slog.Logger) (*Metrics, error) {
	meter := mp.Meter(instrumentationName)
	requests, err := meter.Int64Counter("mcpmesh.http.requests",
		metric.WithUnit("{request}"),
		metric.WithDescription("HTTP requests served by the gateway, by route pattern, method and status code."))
	if err != nil {
		return nil, err
	}
	duration, err := meter.Float64Histogram("mcpmesh.http.request.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time to serve an HTTP request, by route pattern and method (whole stream for SSE)."),
		// Sub-millisecond buckets: in-process hops cost microseconds.
		metric.WithExplicitBucketBoundaries(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
	if err != nil {
		return nil, err
	}
	streams, err := meter.Int64UpDownCounter("mcpmesh.mcp.streams.open",
		metric.WithUnit("{stream}"),
		metric.WithDescription("Server-sent event streams currently open on /mcp."))
	if err != nil {
		return nil, err
	}
	// The gauge exists from the start, at zero.
	streams.Add(context.Background(), 0)
	return &Metrics{
		requests:    requests,
		duration:    duration,
		streams:     streams,
		accessLog:   accessLog,
		counterOpts: map[counterKey][]metric.AddOption{},
		timerOpts:   map[timerKey][]metric.RecordOption{},
	}, nil
}

// StreamsOpen counts open SSE streams on /mcp (POST and GET).
func (m *Metrics) StreamsOpen() StreamGauge { return StreamGauge{m.streams} }

// StreamGauge moves the open-streams gauge.
type StreamGauge struct{ c metric.Int64UpDownCounter }

// Inc counts a stream opened.
func (g StreamGauge) Inc() { g.c.Add(context.Background(), 1) }

// Dec counts a stream closed.
func (g StreamGauge) Dec() { g.c.Add(context.Background(), -1) }

// Observe records one finished request.
func (m *Metrics) Observe(ctx context.Context, route, method string, code int, elapsed time.Duration) {
	method = normalizeMethod(method)
	ck := counterKey{route, method, code}
	tk := timerKey{route, method}
	m.mu.RLock()
	c, okc := m.counterOpts[ck]
	t, okt := m.timerOpts[tk]
	m.mu.RUnlock()
	if !okc || !okt {
		m.mu.Lock()
		if c, okc = m.counterOpts[ck]; !okc {
			c = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
				attribute.String("route", route), attribute.String("method", method), attribute.String("code", strconv.Itoa(code))))}
			m.counterOpts[ck] = c
		}
		if t, okt = m.timerOpts[tk]; !okt {
			t = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("route", route), attribute.String("method", method)))}
			m.timerOpts[tk] = t
		}
		m.mu.Unlock()
	}
	m.requests.Add(ctx, 1, c...)
	m.duration.Record(ctx, elapsed.Seconds(), t...)
}

// normalizeMethod keeps the method label bounded.
func normalizeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodPatch,
		http.MethodHead, http.MethodOptions:
		return m
	default:
		return "OTHER"
	}
}
