package rpcstats

import (
	"context"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

// The recorder records into otelgrpc's instruments: same scope, same version.
func TestScopeIsOtelgrpcs(t *testing.T) {
	if scopeName != otelgrpc.ScopeName || scopeVersion != otelgrpc.Version {
		t.Fatalf("scope %s %s, otelgrpc's is %s %s", scopeName, scopeVersion, otelgrpc.ScopeName, otelgrpc.Version)
	}
}

// A call's trace context is added to its outgoing metadata once: appended when
// absent, replacing a traceparent forwarded from an incoming call.
func TestInjectSetsTheTraceContextOnce(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	prop := propagation.TraceContext{}
	const want = "00-01000000000000000000000000000000-0200000000000000-01"
	for name, outgoing := range map[string]context.Context{
		"no metadata":         ctx,
		"other metadata":      metadata.AppendToOutgoingContext(ctx, "x-principal", "p"),
		"forwarded in md":     metadata.NewOutgoingContext(ctx, metadata.Pairs("traceparent", "00-ff000000000000000000000000000000-ff00000000000000-01")),
		"forwarded as append": metadata.AppendToOutgoingContext(ctx, "traceparent", "00-ff000000000000000000000000000000-ff00000000000000-01"),
	} {
		got := metadata.ValueFromOutgoingContext(inject(outgoing, prop), "traceparent")
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: traceparent %q, want [%s]", name, got, want)
		}
	}
	if got := metadata.ValueFromOutgoingContext(inject(context.Background(), prop), "traceparent"); len(got) != 0 {
		t.Errorf("a call without a trace sent traceparent %q", got)
	}
}
