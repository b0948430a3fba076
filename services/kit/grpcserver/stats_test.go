package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/rpcstats"
)

// instrumented is a Server whose calls are recorded into an in-memory span exporter
// and a manual metric reader, and a client of its services over one channel:
// "network" (loopback TCP, recorded by otelgrpc's stats handlers, the reference),
// "network-rpcstats" (loopback TCP, recorded by kit/rpcstats' handlers, which the mesh
// uses) or "in-process".
type instrumented struct {
	spans   *tracetest.InMemoryExporter
	metrics *sdkmetric.ManualReader
	tracer  trace.Tracer
	client  testgrpc.TestServiceClient
}

func newInstrumented(t *testing.T, channel string, svc testgrpc.TestServiceServer) *instrumented {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prop := propagation.TraceContext{}
	opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(tp), otelgrpc.WithMeterProvider(mp), otelgrpc.WithPropagators(prop)}
	clientStats, serverStats := otelgrpc.NewClientHandler(opts...), otelgrpc.NewServerHandler(opts...)
	if channel == "network-rpcstats" {
		rec := rpcstats.New(tp, mp)
		clientStats, serverStats = rpcstats.NewClientHandler(rec, prop), rpcstats.NewServerHandler(rec, prop)
	}
	s := New(Settings{
		Logger:             slog.New(slog.DiscardHandler),
		StatsHandler:       serverStats,
		InProcessTelemetry: InProcessTelemetry{TracerProvider: tp, MeterProvider: mp},
	})
	s.Register(&testgrpc.TestService_ServiceDesc, svc)
	in := &instrumented{spans: spans, metrics: reader, tracer: tp.Tracer("test")}
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	switch channel {
	case "in-process":
		t.Cleanup(func() { s.Shutdown(context.Background()) })
		in.client = testgrpc.NewTestServiceClient(s.InProcess())
	case "network", "network-rpcstats":
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve(lis) }()
		cc, err := grpc.NewClient(lis.Addr().String(),
			grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(clientStats))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cc.Close()
			s.Shutdown(context.Background())
			<-done
		})
		in.client = testgrpc.NewTestServiceClient(cc)
	}
	return in
}

// span is one span of a tree, with what must be equal across channels.
type span struct {
	name, kind, status string
	children           []span
}

func (s span) String() string {
	out := fmt.Sprintf("%s(%s,%s)", s.name, s.kind, s.status)
	if len(s.children) > 0 {
		out += fmt.Sprint(s.children)
	}
	return out
}

// tree arranges the recorded spans by parent, children in name order.
func tree(stubs tracetest.SpanStubs) []span {
	byParent := map[trace.SpanID][]tracetest.SpanStub{}
	ids := map[trace.SpanID]bool{}
	for _, s := range stubs {
		ids[s.SpanContext.SpanID()] = true
	}
	for _, s := range stubs {
		parent := s.Parent.SpanID()
		if !ids[parent] {
			parent = trace.SpanID{}
		}
		byParent[parent] = append(byParent[parent], s)
	}
	var build func(trace.SpanID) []span
	build = func(id trace.SpanID) []span {
		var out []span
		for _, s := range byParent[id] {
			out = append(out, span{name: s.Name, kind: s.SpanKind.String(), status: s.Status.Code.String(), children: build(s.SpanContext.SpanID())})
		}
		slices.SortFunc(out, func(a, b span) int { return strings.Compare(a.String(), b.String()) })
		return out
	}
	return build(trace.SpanID{})
}

// rpcDurations lists the rpc.*.call.duration series (metric name, rpc.method and
// status code) with their counts.
func rpcDurations(t *testing.T, r *sdkmetric.ManualReader) []string {
	t.Helper()
	var out []string
	for _, p := range histogramPoints(t, r) {
		method, _ := p.attrs.Value(attribute.Key("rpc.method"))
		code, _ := p.attrs.Value(attribute.Key("rpc.response.status_code"))
		out = append(out, fmt.Sprintf("%s %s %s x%d", p.name, method.AsString(), code.AsString(), p.count))
	}
	slices.Sort(out)
	return out
}

// histogramPoint is one series of a histogram the reader collected.
type histogramPoint struct {
	name, scope string
	attrs       attribute.Set
	count       uint64
}

func histogramPoints(t *testing.T, r *sdkmetric.ManualReader) []histogramPoint {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var out []histogramPoint
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				continue
			}
			for _, dp := range h.DataPoints {
				out = append(out, histogramPoint{name: m.Name, scope: sm.Scope.Name + "/" + sm.Scope.Version, attrs: dp.Attributes, count: dp.Count})
			}
		}
	}
	return out
}

// observedService and observedCalls are the calls whose recordings are compared:
// unary, server stream, a failing call.
var observedService = &inprocService{
	unaryCall: func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
		if string(req.GetPayload().GetBody()) == "fail" {
			return nil, status.Error(codes.NotFound, "no such thing")
		}
		return &testgrpc.SimpleResponse{Payload: req.GetPayload()}, nil
	},
	streamOut: func(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
		for range 2 {
			if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: payload("x")}); err != nil {
				return err
			}
		}
		return nil
	},
}

func observedCalls(t *testing.T, in *instrumented) {
	ctx, root := in.tracer.Start(context.Background(), "root")
	defer root.End()
	if _, err := in.client.UnaryCall(ctx, &testgrpc.SimpleRequest{Payload: payload("ok")}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.client.UnaryCall(ctx, &testgrpc.SimpleRequest{Payload: payload("fail")}); status.Code(err) != codes.NotFound {
		t.Fatalf("want NotFound, got %v", err)
	}
	stream, err := in.client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := stream.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// An in-process call yields the client and server spans and the rpc.client and
// rpc.server metrics that the same call over the network yields: unary, server
// stream, a failing call, and a stream the caller leaves early.
func TestInProcessCallsAreObservedLikeNetworkCalls(t *testing.T) {
	results := map[string][2]string{}
	for _, channel := range []string{"network", "in-process"} {
		in := newInstrumented(t, channel, observedService)
		observedCalls(t, in)
		// The server's side may end a moment after the caller saw the end.
		var spans, metrics string
		// The comparison below reports what arrived when it is still incomplete.
		eventually.Within(5*time.Second, func() bool {
			durations := rpcDurations(t, in.metrics)
			spans, metrics = fmt.Sprint(tree(in.spans.GetSpans())), fmt.Sprint(durations)
			// The root and two spans per call; a client and a server series per call.
			return len(in.spans.GetSpans()) == 7 && len(durations) == 6
		})
		results[channel] = [2]string{spans, metrics}
	}
	network, inproc := results["network"], results["in-process"]
	if network[0] != inproc[0] {
		t.Errorf("span trees differ:\nnetwork    %s\nin-process %s", network[0], inproc[0])
	}
	if network[1] != inproc[1] {
		t.Errorf("rpc metrics differ:\nnetwork    %s\nin-process %s", network[1], inproc[1])
	}
	// Both must have recorded what the calls did.
	for _, want := range []string{"grpc.testing.TestService/UnaryCall(client,Unset)", "grpc.testing.TestService/UnaryCall(client,Error)", "grpc.testing.TestService/StreamingOutputCall(server,Unset)"} {
		if !strings.Contains(inproc[0], want) {
			t.Errorf("span tree lacks %s", want)
		}
	}
}

// A caller that leaves a stream early (cancels its context) still ends its span.
func TestInProcessAbandonedStreamEndsItsSpan(t *testing.T) {
	started := make(chan context.Context, 1)
	in := newInstrumented(t, "in-process", &inprocService{streamOut: waitForCancel(started)})
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := in.client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{}); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	if !eventually.Within(5*time.Second, func() bool { return len(in.spans.GetSpans()) >= 2 }) {
		t.Fatalf("spans after cancel: %v", tree(in.spans.GetSpans()))
	}
	for _, s := range in.spans.GetSpans() {
		if s.Status.Code.String() != "Error" && s.SpanKind == trace.SpanKindClient {
			t.Errorf("client span of a cancelled stream has status %s", s.Status.Code)
		}
	}
}

// A call in a trace that is not sampled records no span, in process as over the
// network, but its rpc metrics all the same.
func TestInProcessUnsampledCallsRecordMetricsOnly(t *testing.T) {
	svc := &inprocService{unaryCall: func(_ context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
		return &testgrpc.SimpleResponse{Payload: req.GetPayload()}, nil
	}}
	unsampled := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, Remote: true, // TraceFlags 0: not sampled
	}))
	for _, channel := range []string{"network", "network-rpcstats", "in-process"} {
		in := newInstrumented(t, channel, svc)
		if _, err := in.client.UnaryCall(unsampled, &testgrpc.SimpleRequest{Payload: payload("ok")}); err != nil {
			t.Fatal(err)
		}
		want := "[rpc.client.call.duration grpc.testing.TestService/UnaryCall OK x1 rpc.server.call.duration grpc.testing.TestService/UnaryCall OK x1]"
		var got string
		eventually.Within(5*time.Second, func() bool {
			got = fmt.Sprint(rpcDurations(t, in.metrics))
			return got == want
		})
		if got != want {
			t.Errorf("%s: rpc metrics %s, want %s", channel, got, want)
		}
		if spans := in.spans.GetSpans(); len(spans) != 0 {
			t.Errorf("%s: recorded %d spans of an unsampled trace: %v", channel, len(spans), tree(spans))
		}
	}
}

// The mesh's network stats handlers (kit/rpcstats) record what otelgrpc's record: the
// same spans (names, kinds, statuses with their descriptions, attributes, parents)
// and the same rpc.*.call.duration series (every attribute), for the same calls.
func TestNetworkCallsAreRecordedLikeOtelgrpc(t *testing.T) {
	results := map[string][2]string{}
	for _, channel := range []string{"network", "network-rpcstats"} {
		in := newInstrumented(t, channel, observedService)
		observedCalls(t, in)
		var spans, metrics string
		eventually.Within(5*time.Second, func() bool {
			series := detailedDurations(t, in.metrics)
			spans, metrics = detailedSpans(in.spans.GetSpans()), strings.Join(series, "\n")
			return len(in.spans.GetSpans()) == 7 && len(series) == 6
		})
		results[channel] = [2]string{spans, metrics}
	}
	otel, ours := results["network"], results["network-rpcstats"]
	if otel[0] != ours[0] {
		t.Errorf("spans differ:\notelgrpc\n%s\nrpcstats\n%s", otel[0], ours[0])
	}
	if otel[1] != ours[1] {
		t.Errorf("rpc metrics differ:\notelgrpc\n%s\nrpcstats\n%s", otel[1], ours[1])
	}
	for _, want := range []string{"server.address=127.0.0.1", "server.port=<port>", "rpc.response.status_code=NOT_FOUND", "error.type=NOT_FOUND"} {
		if !strings.Contains(ours[1], want) {
			t.Errorf("rpcstats' series lack %s:\n%s", want, ours[1])
		}
	}
}

// attrString lists attributes sorted, with the listener's port (different in each
// run) replaced by <port>.
func attrString(attrs []attribute.KeyValue) string {
	out := make([]string, 0, len(attrs))
	for _, a := range attrs {
		v := a.Value.String()
		if a.Key == "server.port" {
			v = "<port>"
		}
		out = append(out, string(a.Key)+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// detailedSpans describes each span with its parent's name, one line each, sorted.
func detailedSpans(stubs tracetest.SpanStubs) string {
	names := map[trace.SpanID]string{}
	for _, s := range stubs {
		names[s.SpanContext.SpanID()] = s.Name
	}
	lines := make([]string, 0, len(stubs))
	for _, s := range stubs {
		lines = append(lines, fmt.Sprintf("%s <- %s (%s, %s %q) %s", s.Name, names[s.Parent.SpanID()], s.SpanKind,
			s.Status.Code, s.Status.Description, attrString(s.Attributes)))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// detailedDurations lists the rpc.*.call.duration series with all their attributes.
func detailedDurations(t *testing.T, r *sdkmetric.ManualReader) []string {
	t.Helper()
	var out []string
	for _, p := range histogramPoints(t, r) {
		out = append(out, fmt.Sprintf("%s %s %s x%d", p.name, p.scope, attrString(p.attrs.ToSlice()), p.count))
	}
	slices.Sort(out)
	return out
}
