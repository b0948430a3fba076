package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
)

const (
	sampled   = "00-" + parentTrace + "-" + parentSpan + "-01"
	unsampled = "00-" + parentTrace + "-" + parentSpan + "-00"
)

// tracedMux serves /items/{id} behind HTTPHandler and reports the span context its
// handler saw and whether its writer could flush.
func tracedMux(t *testing.T, ratio float64) (http.Handler, *tracetest.InMemoryExporter, *trace.SpanContext, *bool) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	tel, err := telemetry.Setup(context.Background(), telemetry.Settings{
		ServiceName: "mcpmesh-test", SampleRatio: ratio, SpanExporter: exporter, Getenv: env(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	var seen trace.SpanContext
	var flushed bool
	mux := http.NewServeMux()
	mux.HandleFunc("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
		if r.PathValue("id") == "broken" {
			w.WriteHeader(http.StatusBadGateway)
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
			flushed = true
		}
	})
	return tel.HTTPHandler(mux, "mcpmesh.test"), exporter, &seen, &flushed
}

func TestHTTPHandlerRecordsASampledRequest(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		wantName     string
		wantMethod   string
		wantCode     int64
		wantStatus   codes.Code
	}{
		{http.MethodGet, "/items/7", "GET /items/{id}", "GET", http.StatusOK, codes.Unset},
		{http.MethodGet, "/items/broken", "GET /items/{id}", "GET", http.StatusBadGateway, codes.Error},
		// A method of the client's invention names neither the span nor the attribute.
		{"BREW", "/items/7", "HTTP /items/{id}", "_OTHER", http.StatusOK, codes.Unset},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			h, exporter, seen, flushed := tracedMux(t, 0)
			req := httptest.NewRequest(tc.method, tc.path, nil)
			req.Header.Set("traceparent", sampled)
			req.Header.Set("User-Agent", "probe/1")
			h.ServeHTTP(httptest.NewRecorder(), req)

			spans := exporter.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			span := spans[0]
			if span.Name != tc.wantName || span.SpanKind != trace.SpanKindServer {
				t.Errorf("span %q kind %v, want %q server", span.Name, span.SpanKind, tc.wantName)
			}
			if span.Parent.TraceID().String() != parentTrace || span.Parent.SpanID().String() != parentSpan {
				t.Errorf("parent %v, want the traceparent's span", span.Parent)
			}
			if !seen.Equal(span.SpanContext) {
				t.Errorf("handler saw %v, want the server span %v", *seen, span.SpanContext)
			}
			if !*flushed {
				t.Error("the handler's writer lost http.Flusher")
			}
			attrs := map[attribute.Key]attribute.Value{}
			for _, kv := range span.Attributes {
				attrs[kv.Key] = kv.Value
			}
			for key, want := range map[attribute.Key]attribute.Value{
				"http.request.method":       attribute.StringValue(tc.wantMethod),
				"http.route":                attribute.StringValue("/items/{id}"),
				"url.path":                  attribute.StringValue(tc.path),
				"http.response.status_code": attribute.Int64Value(tc.wantCode),
				"user_agent.original":       attribute.StringValue("probe/1"),
			} {
				if attrs[key] != want {
					t.Errorf("attribute %s = %v, want %v", key, attrs[key].String(), want.String())
				}
			}
			if span.Status.Code != tc.wantStatus {
				t.Errorf("status %v, want %v", span.Status.Code, tc.wantStatus)
			}
		})
	}
}

func TestHTTPHandlerStartsNoSpanUnlessSampled(t *testing.T) {
	t.Run("unsampled parent", func(t *testing.T) {
		h, exporter, seen, _ := tracedMux(t, 1)
		req := httptest.NewRequest(http.MethodGet, "/items/7", nil)
		req.Header.Set("traceparent", unsampled)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if n := len(exporter.GetSpans()); n != 0 {
			t.Errorf("%d spans recorded under an unsampled parent", n)
		}
		// The caller's trace travels on, unsampled.
		if seen.TraceID().String() != parentTrace || seen.IsSampled() {
			t.Errorf("handler saw %v sampled=%v, want the caller's trace, unsampled", seen.TraceID(), seen.IsSampled())
		}
	})
	t.Run("no parent, ratio 0", func(t *testing.T) {
		h, exporter, seen, _ := tracedMux(t, 0)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/7", nil))
		if n := len(exporter.GetSpans()); n != 0 {
			t.Errorf("%d spans recorded at ratio 0", n)
		}
		// Logs still get a trace id to correlate by.
		if !seen.IsValid() || seen.IsSampled() {
			t.Errorf("handler saw %v, want a fresh unsampled trace", *seen)
		}
	})
}
