package httpmetrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the gateway's collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// StreamsOpen counts open SSE streams on /mcp (POST and GET).
	StreamsOpen prometheus.Gauge

	mu      sync.RWMutex
	counter map[counterKey]prometheus.Counter
	timer   map[timerKey]prometheus.Observer
}

type counterKey struct {
	route, method string
	code          int
}

type timerKey struct{ route, method string }

// New registers the gateway's collectors on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpmesh_http_requests_total",
			Help: "HTTP requests served by the gateway, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mcpmesh_http_request_duration_seconds",
			Help: "Time to serve an HTTP request, by route pattern and method (whole stream for SSE).",
			// Sub-millisecond buckets: in-process hops cost microseconds.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		StreamsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mcpmesh_mcp_streams_open",
			Help: "Server-sent event streams currently open on /mcp.",
		}),
		counter: map[counterKey]prometheus.Counter{},
		timer:   map[timerKey]prometheus.Observer{},
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.StreamsOpen} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe records one finished request. Children are cached so that the hot path does
// not hash label values on every request.
func (m *Metrics) Observe(route, method string, code int, elapsed time.Duration) {
	method = normalizeMethod(method)
	ck := counterKey{route, method, code}
	tk := timerKey{route, method}
	m.mu.RLock()
	c, okc := m.counter[ck]
	t, okt := m.timer[tk]
	m.mu.RUnlock()
	if !okc || !okt {
		m.mu.Lock()
		if c, okc = m.counter[ck]; !okc {
			c = m.requests.WithLabelValues(route, method, strconv.Itoa(code))
			m.counter[ck] = c
		}
		if t, okt = m.timer[tk]; !okt {
			t = m.duration.WithLabelValues(route, method)
			m.timer[tk] = t
		}
		m.mu.Unlock()
	}
	c.Inc()
	t.Observe(elapsed.Seconds())
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
