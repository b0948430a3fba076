package telemetry

import (
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpmesh/mcpmesh/services/kit/httprecord"
)

// httpScope is the instrumentation scope of the HTTP server spans.
const httpScope = "github.com/mcpmesh/mcpmesh/services/kit/telemetry"

// HTTPHandler traces an HTTP handler: a server span that continues the trace of the
// request headers (W3C trace context and baggage), named operation until the router
// has matched a pattern and then "METHOD route", as the HTTP semantic conventions name
// server spans. The handler's context carries the span (or, when none is started, the
// caller's or a fresh unsampled trace id), so logs and downstream calls correlate.
//
// It records no metrics: the gateway times every request under its route pattern
// itself (http.server.request.duration, gateway/internal/httpmetrics), with attribute
// sets built once per route. Attributes and the status-recording writer cost only
// when the span is recorded; an unsampled request pays for the header lookups and
// one context.
func (t *Telemetry) HTTPHandler(h http.Handler, operation string) http.Handler {
	return &httpServerTracing{
		next:       h,
		operation:  operation,
		tracer:     t.tracer.Tracer(httpScope),
		propagator: t.propagator,
	}
}

type httpServerTracing struct {
	next       http.Handler
	operation  string
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func (s *httpServerTracing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := s.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := s.tracer.Start(ctx, s.operation, trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	r = r.WithContext(ctx)
	if !span.IsRecording() {
		s.next.ServeHTTP(w, r)
		return
	}
	span.SetAttributes(requestAttributes(r)...)
	rec := httprecord.Wrap(w)
	s.next.ServeHTTP(&rec, r)
	code := rec.Status()
	if route := routeOf(r.Pattern); route != "" {
		name := httprecord.Method(r.Method)
		if name == httprecord.OtherMethod {
			name = "HTTP" // the conventions' span name for such a method
		}
		span.SetName(name + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(code))
	if code >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, "")
	}
}

// requestAttributes are the request's span attributes of the HTTP semantic
// conventions. Unlike metric attributes they may be unbounded (path, host, peer).
func requestAttributes(r *http.Request) []attribute.KeyValue {
	method := httprecord.Method(r.Method)
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(method),
		semconv.URLScheme(httprecord.Scheme(r)),
		semconv.URLPath(r.URL.Path),
		semconv.ServerAddress(r.Host),
	}
	if v := httprecord.ProtocolVersion(r); v != "" {
		attrs = append(attrs, semconv.NetworkProtocolVersion(v))
	}
	if method == httprecord.OtherMethod {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginal(r.Method))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, semconv.ClientAddress(host))
	}
	return attrs
}

// routeOf is the path template of a ServeMux pattern ("POST /mcp" -> "/mcp").
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}
