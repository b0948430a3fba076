package session

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
)

// observedHarness is the session service wrapped by Observe, with recorded spans and
// a manual metric reader.
type observedHarness struct {
	harness
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
}

func newObservedHarness(t *testing.T) *observedHarness {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	prov := &testProvider{blockStarted: make(chan struct{}, 1), blockEnded: make(chan error, 1)}
	provSrv := grpc.NewServer()
	providerv1.RegisterProviderServiceServer(provSrv, prov)
	provLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = provSrv.Serve(provLis) }()
	t.Cleanup(provSrv.Stop)

	server := grpcserver.New(grpcserver.Settings{Logger: logger})
	server.Register(&registryv1.RegistryService_ServiceDesc, &testRegistry{snapshot: catalogueFixture(provLis.Addr().String(), "127.0.0.1:1")})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	})
	dialer := dial.New(nil)
	t.Cleanup(func() { _ = dialer.Close() })

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	svc, err := New(DefaultConfig(), Deps{Registry: registryv1.NewRegistryServiceClient(server.InProcess()), Conns: dialer,
		Telemetry: kit.TelemetrySettings{Logger: logger, TracerProvider: tp, MeterProvider: mp}})
	if err != nil {
		t.Fatal(err)
	}
	svc.Register(server)
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	waitFor(t, "catalogue to load", svc.Ready)
	return &observedHarness{
		harness: harness{svc: svc, client: sessionv1.NewSessionServiceClient(server.InProcess()), provider: prov},
		spans:   spans, tp: tp, reader: reader,
	}
}

// span returns the one ended span called name.
func (h *observedHarness) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range h.spans.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		var names []string
		for _, s := range h.spans.Ended() {
			names = append(names, s.Name())
		}
		t.Fatalf("%d spans called %q; ended spans: %q", len(found), name, names)
	}
	return found[0]
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

func TestObservedToolCallSpan(t *testing.T) {
	h := newObservedHarness(t)
	sess := h.initialize(t, "2025-11-25")
	req := stateful(sess, "tools/call", `{"name":"echo","arguments":{"x":1}}`)
	req.ProtocolVersion = "2025-11-25"
	req.RequestId = []byte(`"req-7"`)
	h.mustResult(t, req)

	span := h.span(t, "tools/call echo")
	if span.SpanKind() != trace.SpanKindServer {
		t.Errorf("span kind %v, want server", span.SpanKind())
	}
	got := attrs(span)
	want := map[attribute.Key]string{
		"mcp.method.name":      "tools/call",
		"gen_ai.tool.name":     "echo",
		"mcp.session.id":       sess.GetId(),
		"mcp.protocol.version": "2025-11-25",
		"jsonrpc.request.id":   "req-7",
		"network.transport":    "tcp",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["error.type"]; ok {
		t.Errorf("a successful call has error.type %q", got["error.type"])
	}
	init := h.span(t, "initialize")
	if attrs(init)["mcp.session.id"] != sess.GetId() {
		t.Errorf("initialize span attributes %v lack the new session id", attrs(init))
	}
}

func TestObservedErrorType(t *testing.T) {
	h := newObservedHarness(t)
	h.mustError(t, stateless("tools/call", `{"name":"no-such-tool",`+statelessMeta+`}`), -32602)
	got := attrs(h.span(t, "tools/call no-such-tool"))
	if got["error.type"] != "-32602" || got["rpc.response.status_code"] != "-32602" {
		t.Fatalf("error attributes %v, want error.type and rpc.response.status_code -32602", got)
	}
}

// A trace context in _meta that differs from the one the request arrived in becomes
// the parent; the arriving one is linked.
func TestObservedMetaTraceParent(t *testing.T) {
	h := newObservedHarness(t)
	const clientTrace, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	ctx, transportSpan := h.tp.Tracer("test").Start(context.Background(), "transport")
	params := `{"name":"echo","arguments":{},"_meta":{"traceparent":"00-` + clientTrace + `-` + clientSpan + `-01","tracestate":"k=v",` + statelessMeta[len(`"_meta":{`):] + `}`
	stream, err := h.client.Handle(ctx, stateless("tools/call", params))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			break
		}
	}
	transportSpan.End()

	span := h.span(t, "tools/call echo")
	if span.SpanContext().TraceID().String() != clientTrace || span.Parent().SpanID().String() != clientSpan {
		t.Fatalf("span in trace %s under %s, want trace %s under %s", span.SpanContext().TraceID(), span.Parent().SpanID(), clientTrace, clientSpan)
	}
	if ts := span.SpanContext().TraceState().Get("k"); ts != "v" {
		t.Errorf("tracestate k = %q, want v", ts)
	}
	links := span.Links()
	if len(links) != 1 || links[0].SpanContext.SpanID() != transportSpan.SpanContext().SpanID() {
		t.Fatalf("links %v, want one to the transport span %s", links, transportSpan.SpanContext().SpanID())
	}
}

func TestObservedMetrics(t *testing.T) {
	h := newObservedHarness(t)
	sess := h.initialize(t, "2025-11-25")
	// No version on the request: the session's negotiated one is reported.
	h.mustResult(t, stateful(sess, "tools/call", `{"name":"echo","arguments":{}}`))
	h.mustError(t, stateless("tools/call", `{"name":"no-such-tool",`+statelessMeta+`}`), -32602)
	h.mustError(t, stateless("nope/nothing", `{`+statelessMeta+`}`), -32601)
	h.mustError(t, stateless("tools/call", `{"name":"flaky",`+statelessMeta+`}`), -32603) // provider "down" refuses
	notify := stateful(sess, "notifications/made-up", `{}`)
	notify.Notification, notify.RequestId = true, nil
	if _, err := h.handle(t, notify); err != nil {
		t.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	byName := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			byName[m.Name] = m
		}
	}
	hist, ok := byName["mcp.server.operation.duration"].Data.(metricdata.Histogram[float64])
	if !ok || byName["mcp.server.operation.duration"].Unit != "s" {
		t.Fatalf("mcp.server.operation.duration missing or not a histogram in seconds: %+v", byName["mcp.server.operation.duration"])
	}
	type key struct{ method, version, errorType string }
	counts := map[key]uint64{}
	for _, dp := range hist.DataPoints {
		get := func(k attribute.Key) string { v, _ := dp.Attributes.Value(k); return v.String() }
		counts[key{get("mcp.method.name"), get("mcp.protocol.version"), get("error.type")}] += dp.Count
	}
	for _, k := range []key{
		{"initialize", "2025-11-25", ""},
		{"tools/call", "2025-11-25", ""},
		{"tools/call", "2026-07-28", "-32602"},
		{"_OTHER", "2026-07-28", "-32601"},
		{"_OTHER", "2025-11-25", ""},
	} {
		if counts[k] != 1 {
			t.Errorf("operation duration count for %+v = %d, want 1 (all: %v)", k, counts[k], counts)
		}
	}
	sum := func(name string) int64 {
		switch d := byName[name].Data.(type) {
		case metricdata.Sum[int64]:
			return d.DataPoints[0].Value
		case metricdata.Gauge[int64]:
			return d.DataPoints[0].Value
		}
		t.Fatalf("%s missing: %+v", name, byName[name])
		return 0
	}
	calls, ok := byName["mcpmesh.provider.call.duration"].Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("mcpmesh.provider.call.duration missing: %+v", byName["mcpmesh.provider.call.duration"])
	}
	type callKey struct{ provider, method, outcome string }
	callCounts := map[callKey]uint64{}
	for _, dp := range calls.DataPoints {
		get := func(k attribute.Key) string { v, _ := dp.Attributes.Value(k); return v.String() }
		callCounts[callKey{get("provider"), get("rpc.method"), get("outcome")}] += dp.Count
	}
	for _, k := range []callKey{{"p", "CallTool", "ok"}, {"down", "CallTool", "unavailable"}} {
		if callCounts[k] != 1 {
			t.Errorf("provider calls %+v = %d, want 1 (all: %v)", k, callCounts[k], callCounts)
		}
	}
	if got := sum("mcpmesh.sessions.created"); got != 1 {
		t.Errorf("sessions created = %d, want 1", got)
	}
	if got := sum("mcpmesh.sessions.active"); got != 1 {
		t.Errorf("sessions active = %d, want 1", got)
	}
}

// discardStream is a Handle stream that drops what it is sent.
type discardStream struct {
	grpc.ServerStreamingServer[sessionv1.HandleResponse]
	ctx context.Context
}

func (d discardStream) Context() context.Context             { return d.ctx }
func (d discardStream) Send(*sessionv1.HandleResponse) error { return nil }

// BenchmarkObservedPing measures what the telemetry adds to a request that does little
// else: unsampled is the default without an exporter, sampled records every span.
func BenchmarkObservedPing(b *testing.B) {
	logger := slog.New(slog.DiscardHandler)
	server := grpcserver.New(grpcserver.Settings{Logger: logger})
	server.Register(&registryv1.RegistryService_ServiceDesc, &testRegistry{})
	defer server.Shutdown(b.Context())
	svc, err := New(DefaultConfig(), Deps{Telemetry: kit.TelemetrySettings{Logger: logger}, Registry: registryv1.NewRegistryServiceClient(server.InProcess()), Conns: dial.New(nil)})
	if err != nil {
		b.Fatal(err)
	}
	req := stateless("ping", `{`+statelessMeta+`}`)
	stream := discardStream{ctx: context.Background()}
	run := func(b *testing.B, handle func(*sessionv1.HandleRequest, grpc.ServerStreamingServer[sessionv1.HandleResponse]) error) {
		b.ReportAllocs()
		for b.Loop() {
			if err := handle(req, stream); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("plain", func(b *testing.B) { run(b, svc.Handle) })
	for _, tc := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{
		{"unsampled", sdktrace.ParentBased(sdktrace.NeverSample())},
		{"sampled", sdktrace.AlwaysSample()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			o, err := newObserved(svc, kit.TelemetrySettings{TracerProvider: tp, MeterProvider: mp})
			if err != nil {
				b.Fatal(err)
			}
			run(b, o.Handle)
		})
	}
}
