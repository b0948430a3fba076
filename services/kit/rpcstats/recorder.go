package rpcstats

import (
	"context"
	"net"
	"strconv"
	"sync"
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

// Recorder records gRPC calls as otelgrpc's stats handlers do: for each side of a
// call, the span and the rpc.client.call.duration / rpc.server.call.duration
// measurement (same span names, kinds, statuses and attributes; same instruments, so
// that the calls of one process recorded here and by otelgrpc add up to the same
// series). It serves the in-process channel (kit/grpcserver) and the network hops
// (ClientHandler, ServerHandler).
//
// It records them without otelgrpc's per-call work: the span names and attribute sets
// of a method are built once, and a call whose caller is not sampled starts no spans at
// all (the mesh's samplers follow the parent, so such spans would never be recorded;
// only their fresh span ids are lost, and the handler logs the caller's). Only the
// stable RPC conventions are recorded, whatever OTEL_SEMCONV_STABILITY_OPT_IN asks of
// otelgrpc. A nil *Recorder records nothing.
type Recorder struct {
	tracer                         trace.Tracer
	clientDuration, serverDuration metric.Float64Histogram
}

// The instrumentation scope is otelgrpc's (TestScopeIsOtelgrpcs keeps them
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

// New returns the Recorder of spans from tp and measurements into mp; either may be
// nil (nothing of that kind is recorded), both nil gives the nil Recorder.
func New(tp trace.TracerProvider, mp metric.MeterProvider) *Recorder {
	if tp == nil && mp == nil {
		return nil
	}
	r := &Recorder{}
	if tp != nil {
		r.tracer = tp.Tracer(scopeName, trace.WithInstrumentationVersion(scopeVersion))
	}
	if mp != nil {
		meter := mp.Meter(scopeName,
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

// Method is what is the same for every call of one method: built once.
type Method struct {
	rec *Recorder
	// name is the span name, "package.Service/Method".
	name string
	// attrs are the span's and the metric's method attributes.
	attrs                    []attribute.KeyValue
	clientStart, serverStart []trace.SpanStartOption
	clientEnds, serverEnds   [knownCodes]atomic.Pointer[callEnding]
	// addressedEnds are the endings of network client calls, which also name the
	// server's address (addressedEnding).
	addressedEnds sync.Map
	addressed     atomic.Int64
}

// callEnding is what ends a call of one method with one status code, on one side.
type callEnding struct {
	statusAttr attribute.KeyValue
	// isError: the span's status is Error (clients: any code but OK; servers: the
	// codes that mean the server failed, as otelgrpc classifies them).
	isError    bool
	recordOpts []metric.RecordOption
}

// Method returns the recording of the method named fullMethod ("/package.Service/Method").
func (r *Recorder) Method(fullMethod string) *Method {
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
	return &Method{
		rec:         r,
		name:        name,
		attrs:       attrs,
		clientStart: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)},
		serverStart: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...)},
	}
}

// ending returns the (cached) ending of a call with code on one side.
func (m *Method) ending(client bool, code codes.Code) *callEnding {
	if int(code) >= knownCodes {
		return m.buildEnding(client, code)
	}
	slot := &m.serverEnds[code]
	if client {
		slot = &m.clientEnds[code]
	}
	if e := slot.Load(); e != nil {
		return e
	}
	e := m.buildEnding(client, code)
	slot.Store(e)
	return e
}

// addressedEnding is the (cached) ending of a network client call with code answered
// from address ("host:port"): its measurement also carries server.address and
// server.port, as otelgrpc's does. Addresses are the mesh's peers and providers, a
// bounded set; past maxAddressedEnds endings are built per call instead of kept.
func (m *Method) addressedEnding(code codes.Code, address string) *callEnding {
	key := addressedKey{code: code, address: address}
	if e, ok := m.addressedEnds.Load(key); ok {
		return e.(*callEnding)
	}
	e := m.buildEnding(true, code, serverAddressAttrs(address)...)
	if m.addressed.Add(1) <= maxAddressedEnds {
		m.addressedEnds.Store(key, e)
	}
	return e
}

type addressedKey struct {
	code    codes.Code
	address string
}

// maxAddressedEnds bounds the addressed endings kept per method.
const maxAddressedEnds = 1024

func (m *Method) buildEnding(client bool, code codes.Code, extra ...attribute.KeyValue) *callEnding {
	e := &callEnding{statusAttr: semconv.RPCResponseStatusCode(canonicalCode(code))}
	if client {
		e.isError = code != codes.OK
	} else {
		switch code {
		case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
			e.isError = true
		}
	}
	attrs := make([]attribute.KeyValue, 0, len(m.attrs)+len(extra)+2)
	attrs = append(append(append(attrs, m.attrs...), extra...), e.statusAttr)
	if e.isError {
		attrs = append(attrs, semconv.ErrorTypeKey.String(canonicalCode(code)))
	}
	e.recordOpts = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
	return e
}

// Call is one side of one call being recorded. The zero value records nothing, so an
// uninstrumented channel pays nothing.
type Call struct {
	method *Method
	client bool
	span   trace.Span // nil when the call started none
	begin  time.Time
}

// Active reports whether the call is being recorded.
func (r Call) Active() bool { return r.method != nil }

// Begin begins one side of a call. Its span, when the caller's trace is sampled (or
// has yet to be decided), is in the returned context: the handler's side continues
// from the caller's.
func Begin(ctx context.Context, m *Method, client bool) (context.Context, Call) {
	if m == nil {
		return ctx, Call{}
	}
	r := Call{method: m, client: client, begin: time.Now()}
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

// End reports the end of the call with its status error (nil: OK).
func (r Call) End(ctx context.Context, err error) {
	if r.method == nil {
		return
	}
	r.finish(ctx, err, r.method.ending(r.client, status.Code(err)))
}

// EndAddressed is End for a network client call answered from serverAddress
// ("host:port"; "" when the call never reached a server).
func (r Call) EndAddressed(ctx context.Context, err error, serverAddress string) {
	if r.method == nil {
		return
	}
	if serverAddress == "" || !r.client {
		r.End(ctx, err)
		return
	}
	r.finish(ctx, err, r.method.addressedEnding(status.Code(err), serverAddress))
}

func (r Call) finish(ctx context.Context, err error, e *callEnding) {
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

// serverAddressAttrs are server.address and server.port of "host:port", as otelgrpc
// names a call's server (only server.address when there is no numeric port).
func serverAddressAttrs(hostport string) []attribute.KeyValue {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return []attribute.KeyValue{semconv.ServerAddress(hostport)}
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return []attribute.KeyValue{semconv.ServerAddress(host)}
	}
	return []attribute.KeyValue{semconv.ServerAddress(host), semconv.ServerPort(p)}
}
