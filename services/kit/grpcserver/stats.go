package grpcserver

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// InProcessTelemetry is what the in-process channel records its calls with: for each
// side of a call the span and the rpc.client.call.duration / rpc.server.call.duration
// measurement that otelgrpc's stats handlers record for a network call (same span
// names, kinds, statuses and attributes; same instruments, so that in-process and
// network calls of one process add up to the same series).
//
// It records them directly, without otelgrpc's per-call work, because an in-process
// call needs none of it: the caller's context, span included, reaches the handler as
// it is (no trace context to inject into metadata and extract again), the span names
// and attribute sets of a method are built once, and a call whose caller is not
// sampled starts no spans at all (the mesh's samplers follow the parent, so such
// spans would never be recorded; only their fresh span ids are lost, and the handler
// logs the caller's). Only the stable RPC conventions are recorded, whatever
// OTEL_SEMCONV_STABILITY_OPT_IN asks of otelgrpc.
type InProcessTelemetry struct {
	// TracerProvider starts the spans; nil starts none.
	TracerProvider trace.TracerProvider
	// MeterProvider holds the duration histograms; nil records none.
	MeterProvider metric.MeterProvider
}

// callRecorder is an InProcessTelemetry made ready for calls. A nil *callRecorder
// records nothing.
type callRecorder struct {
	tracer                         trace.Tracer
	clientDuration, serverDuration metric.Float64Histogram
}

// The instrumentation scope is otelgrpc's (TestInProcessScopeIsOtelgrpcs keeps them
// equal), so that in-process and network calls record into the same instruments.
// Named here rather than imported, so that every module using this package does not
// need otelgrpc and its dependencies.
const (
	scopeName    = "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	scopeVersion = "0.72.0"
)

// durationBuckets are otelgrpc's: an instrument must be created with the same
// configuration everywhere in a process to be one instrument.
var durationBuckets = metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

func newCallRecorder(t InProcessTelemetry) *callRecorder {
	if t.TracerProvider == nil && t.MeterProvider == nil {
		return nil
	}
	r := &callRecorder{}
	if t.TracerProvider != nil {
		r.tracer = t.TracerProvider.Tracer(scopeName, trace.WithInstrumentationVersion(scopeVersion))
	}
	if t.MeterProvider != nil {
		meter := t.MeterProvider.Meter(scopeName,
			metric.WithInstrumentationVersion(scopeVersion), metric.WithSchemaURL(semconv.SchemaURL))
		// An instrument that cannot be made (the SDK reports why to its error
		// handler) leaves its side unmeasured.
		if d, err := rpcconv.NewClientCallDuration(meter, durationBuckets); err == nil {
			r.clientDuration = d.Inst()
		}
		if d, err := rpcconv.NewServerCallDuration(meter, durationBuckets); err == nil {
			r.serverDuration = d.Inst()
		}
	}
	return r
}

// knownCodes is the number of gRPC status codes whose endings are cached.
const knownCodes = 17

// methodRecording is what is the same for every call of one method: built once,
// at registration.
type methodRecording struct {
	rec *callRecorder
	// name is the span name, "package.Service/Method".
	name string
	// attrs are the span's and the metric's method attributes.
	attrs                    []attribute.KeyValue
	clientStart, serverStart []trace.SpanStartOption
	clientEnds, serverEnds   [knownCodes]atomic.Pointer[callEnding]
}

// callEnding is what ends a call of one method with one status code, on one side.
type callEnding struct {
	statusAttr attribute.KeyValue
	// isError: the span's status is Error (clients: any code but OK; servers: the
	// codes that mean the server failed, as otelgrpc classifies them).
	isError    bool
	recordOpts []metric.RecordOption
}

func (r *callRecorder) method(fullMethod string) *methodRecording {
	if r == nil {
		return nil
	}
	name := fullMethod
	var attrs []attribute.KeyValue
	if len(fullMethod) > 0 && fullMethod[0] == '/' {
		name = fullMethod[1:]
		attrs = []attribute.KeyValue{semconv.RPCMethod(name)}
	}
	attrs = append(attrs, semconv.RPCSystemNameGRPC)
	return &methodRecording{
		rec:         r,
		name:        name,
		attrs:       attrs,
		clientStart: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)},
		serverStart: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...)},
	}
}

// ending returns the (cached) ending of a call with code on one side.
func (m *methodRecording) ending(client bool, code codes.Code) *callEnding {
	if int(code) >= knownCodes {
		return m.newEnding(client, code)
	}
	slot := &m.serverEnds[code]
	if client {
		slot = &m.clientEnds[code]
	}
	if e := slot.Load(); e != nil {
		return e
	}
	e := m.newEnding(client, code)
	slot.Store(e)
	return e
}

func (m *methodRecording) newEnding(client bool, code codes.Code) *callEnding {
	e := &callEnding{statusAttr: semconv.RPCResponseStatusCode(canonicalCode(code))}
	if client {
		e.isError = code != codes.OK
	} else {
		switch code {
		case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
			e.isError = true
		}
	}
	attrs := make([]attribute.KeyValue, 0, len(m.attrs)+2)
	attrs = append(append(attrs, m.attrs...), e.statusAttr)
	if e.isError {
		attrs = append(attrs, semconv.ErrorTypeKey.String(canonicalCode(code)))
	}
	e.recordOpts = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
	return e
}

// rpcStats is one side of one in-process call being recorded. The zero value records
// nothing, so an uninstrumented channel pays nothing.
type rpcStats struct {
	method *methodRecording
	client bool
	span   trace.Span // nil when the call started none
	begin  time.Time
}

func (r rpcStats) active() bool { return r.method != nil }

// begin begins one side of a call. Its span, when the caller's trace is sampled (or
// has yet to be decided), is in the returned context: the handler's side continues
// from the caller's.
func begin(ctx context.Context, m *methodRecording, client bool) (context.Context, rpcStats) {
	if m == nil {
		return ctx, rpcStats{}
	}
	r := rpcStats{method: m, client: client, begin: time.Now()}
	if m.rec.tracer == nil {
		return ctx, r
	}
	parent := trace.SpanContextFromContext(ctx)
	if parent.IsValid() && !parent.IsSampled() {
		return ctx, r
	}
	opts := m.clientStart
	if !client {
		opts = m.serverStart
		if parent.IsValid() {
			// As a network server sees its caller's span: remote.
			ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
		}
	}
	ctx, r.span = m.rec.tracer.Start(ctx, m.name, opts...)
	return ctx, r
}

// end reports the end of the call with its status error (nil: OK).
func (r rpcStats) end(ctx context.Context, err error) {
	if r.method == nil {
		return
	}
	code := status.Code(err)
	e := r.method.ending(r.client, code)
	if r.span != nil && r.span.IsRecording() {
		if e.isError {
			r.span.SetStatus(otelcodes.Error, status.Convert(err).Message())
		}
		r.span.SetAttributes(e.statusAttr)
		r.span.End()
	}
	hist := r.method.rec.serverDuration
	if r.client {
		hist = r.method.rec.clientDuration
	}
	if hist != nil {
		hist.Record(ctx, time.Since(r.begin).Seconds(), e.recordOpts...)
	}
}

// canonicalCode is a status code's name in the OpenTelemetry conventions.
func canonicalCode(code codes.Code) string {
	names := [knownCodes]string{
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
		"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	}
	if int(code) < knownCodes {
		return names[code]
	}
	return "CODE(" + strconv.FormatInt(int64(code), 10) + ")"
}
