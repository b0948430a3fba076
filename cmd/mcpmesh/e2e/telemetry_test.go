package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// traceReceiver is an OTLP/gRPC trace collector that keeps every span it gets.
type traceReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	addr string

	mu    sync.Mutex
	spans []receivedSpan
}

// receivedSpan is a span and the service.name of the process that sent it.
type receivedSpan struct {
	service string
	span    *tracepb.Span
}

func (r *traceReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, receivedSpan{service: service, span: s})
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// trace returns the spans received so far for traceID (hex).
func (r *traceReceiver) trace(traceID string) []receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []receivedSpan
	for _, s := range r.spans {
		if hex.EncodeToString(s.span.GetTraceId()) == traceID {
			out = append(out, s)
		}
	}
	return out
}

// startTraceReceiver serves an OTLP trace receiver on loopback until the test ends.
// It is registered before the processes, so it stops after them and receives their
// last flush.
func startTraceReceiver(t *testing.T) *traceReceiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &traceReceiver{addr: lis.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, r)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return r
}

// startSixTraced is startSix with every process exporting spans to r and serving its
// metrics on an admin listener.
func startSixTraced(t *testing.T, r *traceReceiver) *mesh {
	env := []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + r.addr,
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_EXPORTER_OTLP_INSECURE=true",
		"OTEL_BSP_SCHEDULE_DELAY=50",
		"OTEL_TRACES_EXPORTER=",
	}
	const anyPort, admin = "-grpc.listen=127.0.0.1:0", "-admin.listen=127.0.0.1:0"
	reg := startWithEnv(t, "registry", env, "-target=registry", anyPort, admin)
	prov := startWithEnv(t, "provider", env, "-target=provider-everything", anyPort, admin, "-peers.registry="+reg.GRPC)
	sess := startWithEnv(t, "session", env, "-target=session", anyPort, admin, "-peers.registry="+reg.GRPC)
	tr := startWithEnv(t, "transport", env, "-target=transport", anyPort, admin, "-peers.session="+sess.GRPC)
	hl := startWithEnv(t, "health", env, "-target=health", anyPort, admin, "-peers.registry="+reg.GRPC,
		"-peers.transport="+tr.GRPC, "-peers.session="+sess.GRPC)
	gw := startWithEnv(t, "gateway", env, "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+tr.GRPC, "-peers.registry="+reg.GRPC, "-peers.session="+sess.GRPC, "-peers.health="+hl.GRPC)
	m := &mesh{base: gw.HTTP, processes: map[string]*proc.Process{
		"registry": reg, "provider": prov, "session": sess, "transport": tr, "health": hl, "gateway": gw,
	}}
	waitReady(t, m.base)
	return m
}

// newTraceParent returns a sampled W3C traceparent for a fresh trace, and its ids.
func newTraceParent(t *testing.T) (header, traceID, spanID string) {
	t.Helper()
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	traceID, spanID = hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:])
	return "00-" + traceID + "-" + spanID + "-01", traceID, spanID
}

// waitForTrace polls the receiver until the trace has spans from every service in
// want and is connected: at most one span (the root) has a parent outside the trace.
// Bounded; each process exports in its own batches, so a trace arrives in pieces.
func waitForTrace(t *testing.T, r *traceReceiver, traceID string, want ...string) []receivedSpan {
	t.Helper()
	var spans []receivedSpan
	var missing []string
	dangling := 0
	if !eventually.Within(20*time.Second, func() bool {
		spans = r.trace(traceID)
		seen := map[string]bool{}
		ids := map[string]bool{}
		for _, s := range spans {
			seen[s.service] = true
			ids[hex.EncodeToString(s.span.GetSpanId())] = true
		}
		dangling = 0
		for _, s := range spans {
			if p := s.span.GetParentSpanId(); len(p) > 0 && !ids[hex.EncodeToString(p)] {
				dangling++
			}
		}
		missing = slices.DeleteFunc(slices.Clone(want), func(svc string) bool { return seen[svc] })
		return len(missing) == 0 && dangling <= 1
	}) {
		t.Fatalf("trace %s incomplete after 20s: no spans from %v, %d spans with parents outside it; got %s", traceID, missing, dangling, describe(spans))
	}
	return spans
}

func describe(spans []receivedSpan) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString("\n  " + s.service + ": " + s.span.GetName() + " " + hex.EncodeToString(s.span.GetSpanId()) + " <- " + hex.EncodeToString(s.span.GetParentSpanId()))
	}
	return b.String()
}

// checkParents asserts that every span's parent is the client's span or another span
// of the trace, and returns the spans by id.
func checkParents(t *testing.T, spans []receivedSpan, clientSpan string) map[string]receivedSpan {
	t.Helper()
	byID := map[string]receivedSpan{}
	for _, s := range spans {
		byID[hex.EncodeToString(s.span.GetSpanId())] = s
	}
	for _, s := range spans {
		parent := hex.EncodeToString(s.span.GetParentSpanId())
		if _, ok := byID[parent]; !ok && parent != clientSpan {
			t.Errorf("%s span %q has parent %s, which is neither the client's span nor in the trace%s", s.service, s.span.GetName(), parent, describe(spans))
		}
	}
	return byID
}

// ancestors lists the services and names of a span's ancestors, nearest first.
func ancestors(byID map[string]receivedSpan, s receivedSpan) []receivedSpan {
	var out []receivedSpan
	for i := 0; i < 64; i++ {
		p, ok := byID[hex.EncodeToString(s.span.GetParentSpanId())]
		if !ok {
			return out
		}
		out = append(out, p)
		s = p
	}
	return out
}

func find(spans []receivedSpan, service, name string, kind tracepb.Span_SpanKind) (receivedSpan, bool) {
	for _, s := range spans {
		if s.service == service && s.span.GetName() == name && s.span.GetKind() == kind {
			return s, true
		}
	}
	return receivedSpan{}, false
}

func spanAttrs(s *tracepb.Span) map[string]string {
	out := map[string]string{}
	for _, kv := range s.GetAttributes() {
		v := kv.GetValue()
		switch {
		case v.GetStringValue() != "":
			out[kv.GetKey()] = v.GetStringValue()
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}

func hasService(spans []receivedSpan, service string) bool {
	return slices.ContainsFunc(spans, func(s receivedSpan) bool { return s.service == service })
}

// TestSixProcessesTelemetry checks that a tools/call over /mcp and one over the REST
// route are each one trace across every process they cross, and that every process
// serves Prometheus metrics that moved.
func TestSixProcessesTelemetry(t *testing.T) {
	receiver := startTraceReceiver(t)
	m := startSixTraced(t, receiver)

	t.Run("tools/call over /mcp is one trace", func(t *testing.T) {
		traceparent, traceID, clientSpan := newTraceParent(t)
		req, err := http.NewRequest(http.MethodPost, m.base+"/mcp", strings.NewReader(statelessBody("tools/call", `{"name":"echo","arguments":{"message":"traced"}}`)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", stateless)
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "echo")
		req.Header.Set("traceparent", traceparent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Error != nil || !strings.Contains(string(out.Result), "traced") {
			t.Fatalf("tools/call: err %v, response %+v", err, out)
		}

		spans := waitForTrace(t, receiver, traceID, "mcpmesh-gateway", "mcpmesh-transport", "mcpmesh-session", "mcpmesh-provider-everything")
		byID := checkParents(t, spans, clientSpan)
		t.Logf("trace %s:%s", traceID, describe(spans))

		mcpSpan, ok := find(spans, "mcpmesh-session", "tools/call echo", tracepb.Span_SPAN_KIND_SERVER)
		if !ok {
			t.Fatalf("no session span \"tools/call echo\"%s", describe(spans))
		}
		attrs := spanAttrs(mcpSpan.span)
		for k, v := range map[string]string{
			"mcp.method.name":      "tools/call",
			"gen_ai.tool.name":     "echo",
			"mcp.protocol.version": stateless,
			"network.transport":    "tcp",
		} {
			if attrs[k] != v {
				t.Errorf("tools/call echo: %s = %q, want %q (all: %v)", k, attrs[k], v, attrs)
			}
		}
		if attrs["jsonrpc.request.id"] == "" {
			t.Errorf("tools/call echo has no jsonrpc.request.id (all: %v)", attrs)
		}
		// gateway -> transport -> session -> MCP span, in that order up the chain.
		up := ancestors(byID, mcpSpan)
		var services []string
		for _, a := range up {
			if len(services) == 0 || services[len(services)-1] != a.service {
				services = append(services, a.service)
			}
		}
		if !slices.Equal(services, []string{"mcpmesh-session", "mcpmesh-transport", "mcpmesh-gateway"}) {
			t.Errorf("the MCP span's ancestors come from %v, want session, transport, gateway%s", services, describe(spans))
		}
		// The provider's server span descends from the MCP span.
		provSpan, ok := find(spans, "mcpmesh-provider-everything", "mcpmesh.provider.v1.ProviderService/CallTool", tracepb.Span_SPAN_KIND_SERVER)
		if !ok {
			t.Fatalf("no provider CallTool server span%s", describe(spans))
		}
		if !slices.ContainsFunc(ancestors(byID, provSpan), func(a receivedSpan) bool { return string(a.span.GetSpanId()) == string(mcpSpan.span.GetSpanId()) }) {
			t.Errorf("the provider's CallTool span does not descend from the MCP span%s", describe(spans))
		}
	})

	t.Run("_meta.traceparent without HTTP headers", func(t *testing.T) {
		_, clientTrace, clientSpan := newTraceParent(t)
		body := strings.Replace(statelessBody("tools/call", `{"name":"echo","arguments":{"message":"meta"}}`), `"_meta":{`, `"_meta":{"traceparent":"00-`+clientTrace+`-`+clientSpan+`-01",`, 1)
		resp, err := postRaw(m.base, body, map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "echo"})
		if err != nil {
			t.Fatal(err)
		}
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Error != nil {
			t.Fatalf("tools/call: err %v, response %+v", err, out)
		}
		// The client's trace holds the MCP span (under the client's span) and what it
		// called; the gateway and transport spans stay in the trace the HTTP request
		// started, which the MCP span links.
		spans := waitForTrace(t, receiver, clientTrace, "mcpmesh-session", "mcpmesh-provider-everything")
		mcpSpan, ok := find(spans, "mcpmesh-session", "tools/call echo", tracepb.Span_SPAN_KIND_SERVER)
		if !ok {
			t.Fatalf("no MCP span in the client's trace%s", describe(spans))
		}
		if got := hex.EncodeToString(mcpSpan.span.GetParentSpanId()); got != clientSpan {
			t.Errorf("MCP span parent %s, want the client's span %s", got, clientSpan)
		}
		links := mcpSpan.span.GetLinks()
		if len(links) != 1 {
			t.Fatalf("MCP span has %d links, want one to the transport's span", len(links))
		}
		linked := waitForTrace(t, receiver, hex.EncodeToString(links[0].GetTraceId()), "mcpmesh-gateway", "mcpmesh-transport")
		if hasService(linked, "mcpmesh-provider-everything") {
			t.Errorf("the provider call went to the HTTP request's trace, not the client's%s", describe(linked))
		}
	})

	t.Run("REST tool call is one trace", func(t *testing.T) {
		traceparent, traceID, clientSpan := newTraceParent(t)
		req, err := http.NewRequest(http.MethodPost, m.base+"/v1/tools/echo:call", strings.NewReader(`{"arguments":{"message":"rest"}}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("traceparent", traceparent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "rest") {
			t.Fatalf("REST call: %d %s", resp.StatusCode, body)
		}
		// REST calls go through the session service's dispatcher, like MCP ones, but
		// skip the MCP wire (transport) and never touch the registry.
		spans := waitForTrace(t, receiver, traceID, "mcpmesh-gateway", "mcpmesh-session", "mcpmesh-provider-everything")
		checkParents(t, spans, clientSpan)
		if _, ok := find(spans, "mcpmesh-session", "tools/call echo", tracepb.Span_SPAN_KIND_SERVER); !ok {
			t.Errorf("no MCP span for the REST call%s", describe(spans))
		}
		if hasService(spans, "mcpmesh-registry") || hasService(spans, "mcpmesh-transport") {
			t.Errorf("the REST call crossed the registry or the transport%s", describe(spans))
		}
	})

	t.Run("every process serves Prometheus metrics", func(t *testing.T) {
		// A stateful session, so that the session counters have something to count.
		initialize(t, http.DefaultClient, m.base, "2025-11-25")
		urls := map[string]string{"gateway": m.base + "/metrics"}
		for name, p := range m.processes {
			if name != "gateway" {
				if p.Metrics == "" {
					t.Fatalf("%s printed no admin address", name)
				}
				urls[name] = p.Metrics
			}
		}
		want := map[string][]string{
			"gateway":   {"http_server_request_duration_seconds", "mcpmesh_mcp_streams_open", "rpc_client_call_duration_seconds"},
			"transport": {"rpc_server_call_duration_seconds", "rpc_client_call_duration_seconds"},
			"session":   {"rpc_server_call_duration_seconds", "mcp_server_operation_duration_seconds", "mcpmesh_sessions_created_total", "mcpmesh_sessions_active", "mcpmesh_provider_call_duration_seconds"},
			"provider":  {"rpc_server_call_duration_seconds"},
			"registry":  {"rpc_server_call_duration_seconds", "mcpmesh_registry_providers", "mcpmesh_registry_catalogue_entries"},
			"health":    {"go_goroutines"},
		}
		for name, url := range urls {
			families := scrapeMetrics(t, url)
			for _, family := range append(want[name], "target_info", "go_goroutines", "process_cpu_seconds_total") {
				if families[family] == nil {
					t.Errorf("%s /metrics lacks %s", name, family)
				}
			}
		}
		// The MCP operation histogram moved for the call made above.
		ops := scrapeMetrics(t, urls["session"])["mcp_server_operation_duration_seconds"]
		var calls uint64
		for _, metric := range ops.GetMetric() {
			if label(metric, "mcp_method_name") == "tools/call" && label(metric, "error_type") == "" {
				calls += metric.GetHistogram().GetSampleCount()
			}
		}
		if calls == 0 {
			t.Errorf("mcp_server_operation_duration_seconds counted no successful tools/call")
		}
		// So did the provider call histogram, under the provider's name.
		var providerCalls uint64
		for _, metric := range scrapeMetrics(t, urls["session"])["mcpmesh_provider_call_duration_seconds"].GetMetric() {
			if label(metric, "provider") == "everything" && label(metric, "rpc_method") == "CallTool" && label(metric, "outcome") == "ok" {
				providerCalls += metric.GetHistogram().GetSampleCount()
			}
		}
		if providerCalls == 0 {
			t.Errorf("mcpmesh_provider_call_duration_seconds counted no successful CallTool to provider everything")
		}
	})
	http.DefaultClient.CloseIdleConnections()
}

// postRaw posts a 2026-07-28 body to /mcp with the usual headers plus extra.
func postRaw(base, body string, extra map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", stateless)
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	return http.DefaultClient.Do(req)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// scrapeMetrics fetches a /metrics page and parses it as Prometheus text.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return families
}
