package telemetry_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/services/kit/buildinfo"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
)

// exporting is a Telemetry that records every sampled span in the returned exporter.
func exporting(t *testing.T) (*telemetry.Telemetry, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tel, err := telemetry.Setup(context.Background(), telemetry.Settings{
		ServiceName: "mcpmesh-test", SampleRatio: 1, Getenv: env(nil), SpanExporter: exp,
		Build: buildinfo.Info{Version: "v0.0.0-test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel, exp
}

const (
	parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpan  = "00f067aa0ba902b7"
)

func TestSpansUnderAnUnsampledParentAreNotStarted(t *testing.T) {
	tel, exp := exporting(t)
	tracer := tel.TracerProvider().Tracer("test")
	unsampled := tel.Propagator().Extract(context.Background(),
		propagation.MapCarrier{"traceparent": "00-" + parentTrace + "-" + parentSpan + "-00"})

	ctx, span := tracer.Start(unsampled, "child")
	span.End()
	if span.IsRecording() {
		t.Fatal("a child of an unsampled parent is recording")
	}
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != parentTrace || sc.SpanID().String() != parentSpan {
		t.Fatalf("context after Start carries %s/%s, want the parent's %s/%s (for logs and propagation)",
			sc.TraceID(), sc.SpanID(), parentTrace, parentSpan)
	}

	// A new root under the same parent is a new trace, sampled afresh (ratio 1: recorded).
	_, root := tracer.Start(unsampled, "root", trace.WithNewRoot())
	root.End()
	if !root.IsRecording() && root.SpanContext().TraceID().String() == parentTrace {
		t.Fatal("WithNewRoot under an unsampled parent did not start a new trace")
	}

	// A sampled parent and no parent still start real spans.
	sampled := tel.Propagator().Extract(context.Background(),
		propagation.MapCarrier{"traceparent": "00-" + parentTrace + "-" + parentSpan + "-01"})
	_, child := tracer.Start(sampled, "sampled child")
	child.End()
	_, fresh := tracer.Start(context.Background(), "fresh root")
	fresh.End()
	if !child.IsRecording() && child.SpanContext().SpanID().String() == parentSpan {
		t.Fatal("a child of a sampled parent was not started")
	}
	names := map[string]bool{}
	for _, s := range exp.GetSpans() {
		names[s.Name] = true
	}
	if names["child"] || !names["root"] || !names["sampled child"] || !names["fresh root"] {
		t.Fatalf("exported spans %v, want root, sampled child and fresh root only", names)
	}
}

// An unsampled trace still crosses a network hop: the server's handler sees the
// caller's trace id, and neither side exports a span.
func TestUnsampledTraceCrossesANetworkHop(t *testing.T) {
	tel, exp := exporting(t)
	rec, srv, client := serveTraced(t, tel)

	ctx := tel.Propagator().Extract(context.Background(), metadataCarrier{"traceparent": "00-" + parentTrace + "-" + parentSpan + "-00"})
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := <-rec.seen; got.TraceID().String() != parentTrace || got.IsSampled() {
		t.Fatalf("server handler saw trace %s sampled=%v, want the caller's, unsampled", got.TraceID(), got.IsSampled())
	}
	srv.GracefulStop()
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Fatalf("an unsampled call exported %d spans (%s ...)", len(spans), spans[0].Name)
	}
}
