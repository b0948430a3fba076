package httpmetrics

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// Recorder is the ResponseWriter the middleware hands down. It remembers the status
// and the bytes written, and lets an inner router refine the route label (SetRoute).
type Recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string
}

// WriteHeader remembers the first status.
func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write implies 200 when no status was written.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// WriteString keeps io.WriteString free of conversions.
func (r *Recorder) WriteString(s string) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := io.WriteString(r.ResponseWriter, s)
	r.bytes += int64(n)
	return n, err
}

// Flush passes through, for SSE.
func (r *Recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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
		*rec = Recorder{ResponseWriter: w, route: route}
		defer func() {
			code := rec.status
			if code == 0 {
				code = http.StatusOK
			}
			elapsed := time.Since(start)
			m.observe(r, rec.route, code, elapsed)
			if logged {
				m.logAccess(r, code, rec.bytes, elapsed)
			}
			*rec = Recorder{}
			pool.Put(rec)
		}()
		h.ServeHTTP(rec, r)
	})
}
