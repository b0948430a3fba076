package session

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/session/internal/backend"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// instrumentationName is the OpenTelemetry scope of the session service's spans and
// metrics.
const instrumentationName = "github.com/mcpmesh/mcpmesh/services/session"

// Attribute keys of the OpenTelemetry semantic conventions for MCP.
const (
	attrMethod          = attribute.Key("mcp.method.name")
	attrSessionID       = attribute.Key("mcp.session.id")
	attrProtocolVersion = attribute.Key("mcp.protocol.version")
	attrRequestID       = attribute.Key("jsonrpc.request.id")
	attrToolName        = attribute.Key("gen_ai.tool.name")
	attrPromptName      = attribute.Key("gen_ai.prompt.name")
	attrResourceURI     = attribute.Key("mcp.resource.uri")
	attrNetTransport    = attribute.Key("network.transport")
	attrErrorType       = attribute.Key("error.type")
	attrRPCStatusCode   = attribute.Key("rpc.response.status_code")
)

// operationBuckets are the bucket boundaries the semantic conventions recommend for
// mcp.server.operation.duration, in seconds.
var operationBuckets = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

// activeCountTimeout bounds the session count of one scrape.
const activeCountTimeout = 2 * time.Second

// observed is the service with every MCP request traced and measured following the
// OpenTelemetry semantic conventions for MCP; Service.Register registers it.
type observed struct {
	*Service
	meterProvider metric.MeterProvider
	meter         metric.Meter
	tracer        trace.Tracer
	propagator    propagation.TextMapPropagator
	duration      metric.Float64Histogram
	created       metric.Int64Counter
	providers     metric.Float64Histogram
	// attrSets caches the attribute sets of the duration histogram (a few dozen:
	// methods, versions and error types are bounded, see operationKey), so recording
	// allocates nothing.
	attrMu   sync.RWMutex
	attrSets map[operationKey]metric.MeasurementOption
	// providerSets caches the attribute sets of the provider call histogram.
	providerSets map[providerCallKey]metric.MeasurementOption
	// serverSpan is the start option of every MCP span, made once.
	serverSpan []trace.SpanStartOption
}

// operationKey is the attributes of one mcp.server.operation.duration series.
type operationKey struct{ method, version, errorType string }

// newObserved wraps s with MCP spans and metrics (observeBackend adds those that
// read the backend):
//   - span "{mcp.method.name} {target}" (e.g. "tools/call echo"), kind server, child of
//     the caller's span, or of params._meta.traceparent when the request carries a
//     trace of its own (the caller's span is then linked);
//   - mcp.server.operation.duration (s) by mcp.method.name, mcp.protocol.version and
//     error.type;
//   - mcpmesh.sessions.created and mcpmesh.sessions.active (with a database, the
//     mesh-wide count on every replica);
//   - mcpmesh.session.listen.streams, mcpmesh.session.events.recorded,
//     mcpmesh.session.events.replayed, mcpmesh.session.resumptions.refused and, with a
//     database, mcpmesh.session.notify.connected (see streamtelemetry.go);
//   - mcpmesh.provider.call.duration (s) by provider, rpc.method and outcome ("ok",
//     "tool_error", "input_required", "no_result" or a gRPC code such as
//     "unavailable").
func newObserved(s *Service, t kit.TelemetrySettings) (*observed, error) {
	t = t.WithDefaults()
	tp, mp := t.TracerProvider, t.MeterProvider
	meter := mp.Meter(instrumentationName)
	o := &observed{
		Service:       s,
		meterProvider: mp,
		meter:         meter,
		tracer:        tp.Tracer(instrumentationName),
		propagator:    propagation.TraceContext{},
		attrSets:      map[operationKey]metric.MeasurementOption{},
		providerSets:  map[providerCallKey]metric.MeasurementOption{},
		serverSpan:    []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)},
	}
	var err error
	if o.duration, err = meter.Float64Histogram("mcp.server.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of MCP requests handled by the session service."),
		metric.WithExplicitBucketBoundaries(operationBuckets...)); err != nil {
		return nil, err
	}
	if o.created, err = meter.Int64Counter("mcpmesh.sessions.created",
		metric.WithUnit("{session}"),
		metric.WithDescription("Stateful MCP sessions created.")); err != nil {
		return nil, err
	}
	// The series exists from the start, so rate() and absent() see a zero, not nothing.
	o.created.Add(context.Background(), 0)
	if o.providers, err = meter.Float64Histogram("mcpmesh.provider.call.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of calls to providers by provider, ProviderService method and outcome."),
		metric.WithExplicitBucketBoundaries(operationBuckets...)); err != nil {
		return nil, err
	}
	if err := observeStreams(s, meter); err != nil {
		return nil, err
	}
	return o, nil
}

// observeBackend adds the metrics that read the backend's state: the circuit breakers,
// the live sessions and the LISTEN connection.
func (o *observed) observeBackend(b *backend.Backend) error {
	if err := breaker.Observe(b.Breakers, o.meterProvider); err != nil {
		return err
	}
	if err := observeListener(b.Listener, o.meter); err != nil {
		return err
	}
	// In memory: this replica's sessions. With a database: every replica reports the
	// mesh-wide count (one indexed count per scrape), so aggregate with max, not sum.
	st, logger := b.Store, o.logger
	_, err := o.meter.Int64ObservableGauge("mcpmesh.sessions.active",
		metric.WithUnit("{session}"),
		metric.WithDescription("Live stateful MCP sessions: this replica's in memory, the mesh's with a database (aggregate with max)."),
		metric.WithInt64Callback(func(ctx context.Context, obs metric.Int64Observer) error {
			ctx, cancel := context.WithTimeout(ctx, activeCountTimeout)
			defer cancel()
			n, err := st.CountLive(ctx)
			if err != nil {
				// A scrape during a database outage leaves the series out; the database
				// alerts say why.
				logger.DebugContext(ctx, "count active sessions", "error", err)
				return nil
			}
			obs.Observe(n)
			return nil
		}))
	return err
}

// providerCallKey is the attributes of one mcpmesh.provider.call.duration series.
type providerCallKey struct{ provider, method, outcome string }

// observeProviderCall records one provider call. Provider names come from the
// registry, methods and outcomes from fixed lists, so the series stay few.
func (o *observed) observeProviderCall(ctx context.Context, provider, method, outcome string, elapsed time.Duration) {
	key := providerCallKey{provider, method, outcome}
	o.attrMu.RLock()
	opt, ok := o.providerSets[key]
	o.attrMu.RUnlock()
	if !ok {
		opt = metric.WithAttributeSet(attribute.NewSet(
			attribute.String("provider", provider),
			attribute.String("rpc.method", method),
			attribute.String("outcome", outcome),
		))
		o.attrMu.Lock()
		o.providerSets[key] = opt
		o.attrMu.Unlock()
	}
	o.providers.Record(ctx, elapsed.Seconds(), opt)
}

// Initialize is Service.Initialize, traced and measured.
func (o *observed) Initialize(ctx context.Context, req *sessionv1.InitializeRequest) (*sessionv1.InitializeResponse, error) {
	start := time.Now()
	ctx, span := o.startSpan(ctx, "initialize", req.GetParams())
	resp, err := o.Service.Initialize(ctx, req)
	version := resp.GetSession().GetProtocolVersion()
	if span.IsRecording() && version != "" {
		span.SetAttributes(attrProtocolVersion.String(version), attrSessionID.String(resp.GetSession().GetId()))
	}
	errorType := grpcErrorType(err)
	if err == nil && resp.GetSession().GetId() != "" {
		o.created.Add(ctx, 1)
	}
	o.end(ctx, span, start, "initialize", version, errorType, err)
	return resp, err
}

// Handle is Service.Handle, traced and measured.
func (o *observed) Handle(req *sessionv1.HandleRequest, stream grpc.ServerStreamingServer[sessionv1.HandleResponse]) error {
	start := time.Now()
	method := req.GetMethod()
	ctx, span := o.startSpan(stream.Context(), method, req.GetParams())
	if span.IsRecording() {
		var attrs []attribute.KeyValue
		if v := req.GetProtocolVersion(); v != "" {
			attrs = append(attrs, attrProtocolVersion.String(v))
		}
		if id := req.GetSessionId(); id != "" {
			attrs = append(attrs, attrSessionID.String(id))
		}
		if id := requestID(req.GetRequestId()); id != "" {
			attrs = append(attrs, attrRequestID.String(id))
		}
		span.SetAttributes(attrs...)
	}
	observed := &observedStream{stream: stream, toolCall: method == "tools/call"}
	version, err := o.handle(ctx, req, observed.Send)
	err = o.toStatus(ctx, methodHandle, err)
	errorType := observed.errorType
	if err != nil {
		errorType = grpcErrorType(err)
	}
	if span.IsRecording() && version != req.GetProtocolVersion() {
		span.SetAttributes(attrProtocolVersion.String(version))
	}
	o.end(ctx, span, start, method, version, errorType, err)
	return err
}

// startSpan starts the MCP server span of one request. Its name and target attributes
// need params decoded, which is done only for recorded spans.
func (o *observed) startSpan(ctx context.Context, method string, params []byte) (context.Context, trace.Span) {
	opts := o.serverSpan
	// A trace context in _meta (SEP-414) names the client's own trace: when it is not
	// the one the request arrived in (the HTTP request carried none), the MCP span
	// continues the client's trace and links the transport's.
	if bytes.Contains(params, []byte("traceparent")) {
		var p struct {
			Meta struct {
				TraceParent string `json:"traceparent"`
				TraceState  string `json:"tracestate"`
			} `json:"_meta"`
		}
		if json.Unmarshal(params, &p) == nil && p.Meta.TraceParent != "" {
			carrier := propagation.MapCarrier{"traceparent": p.Meta.TraceParent}
			if p.Meta.TraceState != "" {
				carrier["tracestate"] = p.Meta.TraceState
			}
			metaCtx := o.propagator.Extract(context.Background(), carrier)
			meta := trace.SpanContextFromContext(metaCtx)
			incoming := trace.SpanContextFromContext(ctx)
			if meta.IsValid() && meta.TraceID() != incoming.TraceID() {
				if incoming.IsValid() {
					opts = append(slices.Clip(opts), trace.WithLinks(trace.Link{SpanContext: incoming}))
				}
				ctx = trace.ContextWithRemoteSpanContext(ctx, meta)
			}
		}
	}
	return o.startTargeted(ctx, method, opts, func() (string, attribute.KeyValue) { return spanTarget(method, params) })
}

// startTargeted starts the MCP server span of a request. Its name and target
// attribute (from target) are only worked out for recorded spans.
func (o *observed) startTargeted(ctx context.Context, method string, opts []trace.SpanStartOption, target func() (string, attribute.KeyValue)) (context.Context, trace.Span) {
	ctx, span := o.tracer.Start(ctx, method, opts...)
	if span.IsRecording() {
		span.SetAttributes(attrMethod.String(method), attrNetTransport.String("tcp"))
		name, attr := target()
		if attr.Valid() {
			span.SetAttributes(attr)
		}
		if name != "" {
			span.SetName(method + " " + name)
		}
	}
	return ctx, span
}

// CallTool is Service.CallTool, traced and measured as a tools/call.
func (o *observed) CallTool(ctx context.Context, req *sessionv1.CallToolRequest) (*sessionv1.CallToolResponse, error) {
	return observeUnary(o, ctx, "tools/call", func() (string, attribute.KeyValue) {
		return req.GetName(), attrToolName.String(req.GetName())
	}, func(ctx context.Context) (*sessionv1.CallToolResponse, error) { return o.Service.CallTool(ctx, req) },
		func(r *sessionv1.CallToolResponse) bool { return isToolError(r.GetResult()) })
}

// ReadResource is Service.ReadResource, traced and measured as a resources/read.
func (o *observed) ReadResource(ctx context.Context, req *sessionv1.ReadResourceRequest) (*sessionv1.ReadResourceResponse, error) {
	return observeUnary(o, ctx, "resources/read", func() (string, attribute.KeyValue) {
		return "", attrResourceURI.String(req.GetUri())
	}, func(ctx context.Context) (*sessionv1.ReadResourceResponse, error) {
		return o.Service.ReadResource(ctx, req)
	}, nil)
}

// GetPrompt is Service.GetPrompt, traced and measured as a prompts/get.
func (o *observed) GetPrompt(ctx context.Context, req *sessionv1.GetPromptRequest) (*sessionv1.GetPromptResponse, error) {
	return observeUnary(o, ctx, "prompts/get", func() (string, attribute.KeyValue) {
		return req.GetName(), attrPromptName.String(req.GetName())
	}, func(ctx context.Context) (*sessionv1.GetPromptResponse, error) { return o.Service.GetPrompt(ctx, req) }, nil)
}

// observeUnary traces and measures a unary call as the MCP request it runs (always a
// 2026-07-28 one); toolError, when set, tells a tool error in the answer.
func observeUnary[R any](o *observed, ctx context.Context, method string, target func() (string, attribute.KeyValue),
	call func(context.Context) (R, error), toolError func(R) bool) (R, error) {
	start := time.Now()
	ctx, span := o.startTargeted(ctx, method, o.serverSpan, target)
	resp, err := call(ctx)
	errorType := unaryErrorType(err)
	if err == nil && toolError != nil && toolError(resp) {
		errorType = "tool_error"
	}
	o.end(ctx, span, start, method, mcpversion.V20260728, errorType, err)
	return resp, err
}

// unaryErrorType is the error.type of a failed unary call: the JSON-RPC code the MCP
// path would have answered with (carried in the status's ErrorInfo), so both
// surfaces count alike, or the gRPC code name.
func unaryErrorType(err error) string {
	if err == nil {
		return ""
	}
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == errorDomain {
			if code := info.GetMetadata()["jsonrpc_code"]; code != "" {
				return code
			}
		}
	}
	return grpcErrorType(err)
}

// end records the duration and closes the span.
func (o *observed) end(ctx context.Context, span trace.Span, start time.Time, method, version, errorType string, err error) {
	if errorType != "" && span.IsRecording() {
		if errorType == methodNotFoundType {
			span.SetName(otherValue) // the name must not be the client's to choose
		}
		span.SetAttributes(attrErrorType.String(errorType))
		if code, convErr := strconv.Atoi(errorType); convErr == nil {
			span.SetAttributes(attrRPCStatusCode.Int(code))
		}
		desc := errorType
		if err != nil {
			desc = status.Convert(err).Message()
		}
		span.SetStatus(codes.Error, desc)
	}
	o.duration.Record(ctx, time.Since(start).Seconds(), o.operationAttributes(method, version, errorType))
	span.End()
}

// otherValue replaces attribute values chosen by clients that the mesh does not know,
// so that a client cannot create series at will.
const otherValue = "_OTHER"

// methodNotFoundType is the error.type of a request for a method the mesh lacks.
var methodNotFoundType = strconv.Itoa(int(mcpjson.CodeMethodNotFound))

// knownNotifications are the client notifications of MCP. Unknown requests are told
// by their -32601 answer; unknown notifications get no answer, hence this list.
var knownNotifications = map[string]bool{
	"notifications/initialized":        true,
	"notifications/cancelled":          true,
	"notifications/progress":           true,
	"notifications/roots/list_changed": true,
}

func (o *observed) operationAttributes(method, version, errorType string) metric.MeasurementOption {
	if errorType == methodNotFoundType || (strings.HasPrefix(method, "notifications/") && !knownNotifications[method]) {
		method = otherValue
	}
	if version != "" && !mcpversion.IsSupported(version) {
		version = otherValue
	}
	key := operationKey{method, version, errorType}
	o.attrMu.RLock()
	opt, ok := o.attrSets[key]
	o.attrMu.RUnlock()
	if ok {
		return opt
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, attrMethod.String(method))
	if version != "" {
		attrs = append(attrs, attrProtocolVersion.String(version))
	}
	if errorType != "" {
		attrs = append(attrs, attrErrorType.String(errorType))
	}
	opt = metric.WithAttributeSet(attribute.NewSet(attrs...))
	o.attrMu.Lock()
	o.attrSets[key] = opt
	o.attrMu.Unlock()
	return opt
}

// observedStream notes how a request ended from the events it sends.
type observedStream struct {
	stream    grpc.ServerStreamingServer[sessionv1.HandleResponse]
	toolCall  bool
	errorType string
}

func (s *observedStream) Send(r *sessionv1.HandleResponse) error {
	switch ev := r.GetEvent().(type) {
	case *sessionv1.HandleResponse_Error:
		// The semantic conventions use the JSON-RPC error code.
		s.errorType = strconv.Itoa(int(ev.Error.GetCode()))
	case *sessionv1.HandleResponse_Result:
		if s.toolCall && isToolError(ev.Result) {
			s.errorType = "tool_error"
		}
	}
	return s.stream.Send(r)
}

// isToolError reports whether a CallToolResult has isError set.
func isToolError(result []byte) bool {
	if !bytes.Contains(result, []byte(`"isError"`)) {
		return false
	}
	var r struct {
		IsError bool `json:"isError"`
	}
	return json.Unmarshal(result, &r) == nil && r.IsError
}

// spanTarget decodes what a request acts on: the name that completes the span name
// (tools and prompts) and the attribute that names it.
func spanTarget(method string, params []byte) (string, attribute.KeyValue) {
	switch method {
	case "tools/call", "prompts/get":
		var p struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(params, &p) != nil || p.Name == "" {
			return "", attribute.KeyValue{}
		}
		if method == "tools/call" {
			return p.Name, attrToolName.String(p.Name)
		}
		return p.Name, attrPromptName.String(p.Name)
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		// The URI is an attribute, not part of the name: span names must stay few.
		var p struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(params, &p) != nil || p.URI == "" {
			return "", attribute.KeyValue{}
		}
		return "", attrResourceURI.String(p.URI)
	}
	return "", attribute.KeyValue{}
}

// requestID renders a raw JSON-RPC id: strings unquoted, numbers as written.
func requestID(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// grpcErrorType is the error.type of a failed call: its gRPC status code name.
func grpcErrorType(err error) string {
	if err == nil {
		return ""
	}
	return status.Code(err).String()
}
