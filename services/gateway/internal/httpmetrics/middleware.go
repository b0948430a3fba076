package httpmetrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/httprecord"
)

// Recorder is the ResponseWriter the middleware hands down. It remembers the status
// and the bytes written, and lets an inner router refine the route label (SetRoute).
type Recorder struct {
	httprecord.Writer
	route string
}

// SetRoute replaces the route label of the request that w serves, when w is a
// Recorder (an inner router such as grpc-gateway knows a finer pattern).
func SetRoute(w http.ResponseWriter, route string) {
	if rec, ok := w.(*Recorder); ok {
		rec.route = route
	}
}

// Instrument wraps h so that each request is timed (and so counted) under route.
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	return m.instrument(route, h, false)
}

// InstrumentLogged is Instrument plus one access-log line per request, written when
// the response ends (for an event stream, when the stream closes).
func (m *Metrics) InstrumentLogged(route string, h http.Handler) http.Handler {
	return m.instrument(route, h, m.accessLog != nil)
}

func (m *Metrics) instrument(route string, h http.Handler, logged bool) http.Handler {
	pool := sync.Pool{New: func() any { return new(Recorder) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := pool.Get().(*Recorder)
		*rec = Recorder{Writer: httprecord.Wrap(w), route: route}
		defer func() {
			elapsed := time.Since(start)
			m.observe(r, rec.route, rec.Status(), elapsed)
			if logged {
				m.logAccess(r, rec.Status(), rec.Bytes(), elapsed)
			}
			*rec = Recorder{}
			pool.Put(rec)
		}()
		h.ServeHTTP(rec, r)
	})
}
