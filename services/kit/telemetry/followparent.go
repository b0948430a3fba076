package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// unsampledParentsFollowed wraps the SDK's tracer provider: a span started under a
// parent that is valid and not sampled is not started at all; the context keeps the
// parent's span (non-recording), whose ids travel on and appear in logs.
//
// Every sampler Setup installs follows the parent (ParentBased, whose default for an
// unsampled parent is never to sample), so such a span could never be recorded: the
// SDK would still draw a span id, evaluate the sampler and allocate the span and its
// start options, which on a network hop of an unsampled trace (otelgrpc's client and
// server handlers start one span each) cost several microseconds per call for
// nothing. The in-process channel skips them the same way (grpcserver.begin). Only
// the fresh span id of each hop is lost: the hop logs its caller's.
type unsampledParentsFollowed struct {
	embedded.TracerProvider
	sdk trace.TracerProvider
}

func (p unsampledParentsFollowed) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return parentFollowingTracer{Tracer: p.sdk.Tracer(name, opts...)}
}

// parentFollowingTracer is a tracer of unsampledParentsFollowed.
type parentFollowingTracer struct {
	trace.Tracer
}

func (t parentFollowingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if parent := trace.SpanContextFromContext(ctx); parent.IsValid() && !parent.IsSampled() {
		// A new root ignores its parent: the sampler decides it afresh.
		if cfg := trace.NewSpanStartConfig(opts...); !cfg.NewRoot() {
			return ctx, trace.SpanFromContext(ctx)
		}
	}
	return t.Tracer.Start(ctx, name, opts...)
}
