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
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"

	"github.com/mcpmesh/mcpmesh/services/kit/httprecord"
)

// instrumentationName is the OpenTelemetry scope of the gateway's metrics.
const instrumentationName = "github.com/mcpmesh/mcpmesh/services/gateway"

// Metrics holds the gateway's instruments.
type Metrics struct {
	duration httpconv.ServerRequestDuration
	streams  metric.Int64UpDownCounter
	// accessLog receives one line per request on logged routes; nil logs none.
	accessLog *slog.Logger

	mu sync.RWMutex
	// Attribute sets are built once per combination, so the hot path neither hashes
	// nor allocates them; kept as slices so that passing them as variadic options
	// allocates nothing either.
	recordOpts map[requestKey][]metric.RecordOption
}

// requestKey is what a request's attributes are built from; every field is bounded
// (routes are the gateway's patterns, methods outside a fixed set are _OTHER).
type requestKey struct {
	route, method string
	code          int
	scheme        string
	protocol      string
}

// New creates the gateway's instruments on mp: http.server.request.duration of the
// HTTP semantic conventions (Prometheus: http_server_request_duration_seconds, whose
// _count is the request count) and mcpmesh.mcp.streams.open (mcpmesh_mcp_streams_open).
// accessLog, when not nil, receives the access log.
func New(mp metric.MeterProvider, accessLog *slog.Logger) (*Metrics, error) {
	meter := mp.Meter(instrumentationName)
	duration, err := httpconv.NewServerRequestDuration(meter,
		// Sub-millisecond buckets: the gateway answers many requests in microseconds.
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
		duration:   duration,
		streams:    streams,
		accessLog:  accessLog,
		recordOpts: map[requestKey][]metric.RecordOption{},
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

// observe records one finished request of r under route with status code.
func (m *Metrics) observe(r *http.Request, route string, code int, elapsed time.Duration) {
	key := requestKey{route: route, method: httprecord.Method(r.Method), code: code, scheme: httprecord.Scheme(r), protocol: httprecord.ProtocolVersion(r)}
	m.mu.RLock()
	opts, ok := m.recordOpts[key]
	m.mu.RUnlock()
	if !ok {
		m.mu.Lock()
		if opts, ok = m.recordOpts[key]; !ok {
			opts = []metric.RecordOption{metric.WithAttributeSet(key.attributes())}
			m.recordOpts[key] = opts
		}
		m.mu.Unlock()
	}
	m.duration.Inst().Record(r.Context(), elapsed.Seconds(), opts...)
}

// attributes are the request's attributes as the HTTP semantic conventions name
// them. server.address and server.port are left out: they would come from the
// client's Host header, a label any caller could multiply.
func (k requestKey) attributes() attribute.Set {
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(k.method),
		semconv.URLScheme(k.scheme),
		semconv.HTTPRoute(k.route),
		semconv.HTTPResponseStatusCode(k.code),
		semconv.NetworkProtocolName("http"),
	}
	if k.protocol != "" {
		attrs = append(attrs, semconv.NetworkProtocolVersion(k.protocol))
	}
	if k.code >= http.StatusInternalServerError {
		// The conventions' error.type of a server error is its status code.
		attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(k.code)))
	}
	return attribute.NewSet(attrs...)
}
