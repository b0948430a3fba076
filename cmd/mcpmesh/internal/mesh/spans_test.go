package mesh

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// spanStore is an in-memory exporter that several meshes share and whose spans
// survive the meshes' shutdown (the exporter's own Shutdown forgets them).
type spanStore struct{ *tracetest.InMemoryExporter }

func (spanStore) Shutdown(context.Context) error { return nil }

// runMeshes builds and runs cfgs in order (each may read the addresses of those
// before it) until the test ends.
func runMeshes(t *testing.T, spans spanStore, cfgs ...func(prev []*Mesh) meshconfig.Config) []*Mesh {
	t.Helper()
	var meshes []*Mesh
	for _, build := range cfgs {
		cfg := build(meshes)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		m, err := New(cfg, slog.New(slog.DiscardHandler), WithSpanExporter(spans))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run %s: %v", cfg.Target, err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("Run %s did not return", cfg.Target)
			}
		})
		meshes = append(meshes, m)
	}
	return meshes
}

// separateProcesses are the six targets of the mesh, each on its own gRPC server
// over loopback, as six processes would run them.
func separateProcesses() []func([]*Mesh) meshconfig.Config {
	grpcAddr := func(m *Mesh) string { a, _ := m.Addresses(); return a }
	target := func(name string, peers func(prev []*Mesh, p *meshconfig.Peers)) func([]*Mesh) meshconfig.Config {
		return func(prev []*Mesh) meshconfig.Config {
			cfg := meshconfig.Default()
			cfg.Target = name
			cfg.GRPC.Listen = "127.0.0.1:0"
			cfg.Gateway.Listen = "127.0.0.1:0"
			peers(prev, &cfg.Peers)
			return cfg
		}
	}
	return []func([]*Mesh) meshconfig.Config{
		target(meshconfig.TargetRegistry, func([]*Mesh, *meshconfig.Peers) {}),
		target(meshconfig.TargetProviderEverything, func(prev []*Mesh, p *meshconfig.Peers) { p.Registry = grpcAddr(prev[0]) }),
		target(meshconfig.TargetSession, func(prev []*Mesh, p *meshconfig.Peers) { p.Registry = grpcAddr(prev[0]) }),
		target(meshconfig.TargetTransport, func(prev []*Mesh, p *meshconfig.Peers) { p.Session = grpcAddr(prev[2]) }),
		target(meshconfig.TargetHealth, func(prev []*Mesh, p *meshconfig.Peers) { p.Registry = grpcAddr(prev[0]) }),
		target(meshconfig.TargetGateway, func(prev []*Mesh, p *meshconfig.Peers) {
			p.Registry, p.Session, p.Transport, p.Health = grpcAddr(prev[0]), grpcAddr(prev[2]), grpcAddr(prev[3]), grpcAddr(prev[4])
		}),
	}
}

const echoCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"traced"},` +
	`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`

// callEcho calls the echo tool (stateless MCP, so no handshake) until it succeeds,
// each attempt in a trace of its own, and returns the trace of the successful one.
func callEcho(t *testing.T, base string) trace.TraceID {
	t.Helper()
	attempt := 0
	var traceID trace.TraceID
	eventually.NoError(t, 15*time.Second, func() error {
		attempt++
		traceID = trace.TraceID{0xaa, byte(attempt >> 8), byte(attempt)}
		req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(echoCall))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "echo")
		req.Header.Set("traceparent", fmt.Sprintf("00-%s-%s-01", traceID, trace.SpanID{1}))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.Contains(string(body), "traced") && !strings.Contains(string(body), `"isError":true`) {
			return nil
		}
		return fmt.Errorf("%d %s", resp.StatusCode, body)
	}, "echo succeeds")
	return traceID
}

// spanTree renders the spans of one trace as an indented tree of name, kind and
// status, children in name order: what must not depend on how targets are deployed.
func spanTree(spans tracetest.SpanStubs, traceID trace.TraceID) (tree string, count int) {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		if s.SpanContext.TraceID() == traceID {
			ids[s.SpanContext.SpanID()] = true
		}
	}
	for _, s := range spans {
		if s.SpanContext.TraceID() != traceID {
			continue
		}
		parent := s.Parent.SpanID()
		if !ids[parent] {
			parent = trace.SpanID{} // the client's remote parent
		}
		children[parent] = append(children[parent], s)
	}
	var b strings.Builder
	var walk func(id trace.SpanID, depth int)
	walk = func(id trace.SpanID, depth int) {
		kids := children[id]
		slices.SortFunc(kids, func(a, b tracetest.SpanStub) int { return strings.Compare(a.Name, b.Name) })
		for _, s := range kids {
			fmt.Fprintf(&b, "%s%s (%s, %s)\n", strings.Repeat("  ", depth), s.Name, s.SpanKind, s.Status.Code)
			walk(s.SpanContext.SpanID(), depth+1)
		}
	}
	walk(trace.SpanID{}, 0)
	return b.String(), len(ids)
}

// settledTree waits until the trace holds every span of the call (the server side of
// a hop may end a moment after its caller has its answer) and renders it.
func settledTree(t *testing.T, spans spanStore, traceID trace.TraceID) string {
	t.Helper()
	// Settled: the provider's span is in, and no span arrived for 200 ms.
	var tree string
	lastCount, changedAt := -1, time.Now()
	if !eventually.Within(10*time.Second, func() bool {
		var count int
		tree, count = spanTree(spans.GetSpans(), traceID)
		if count != lastCount {
			lastCount, changedAt = count, time.Now()
			return false
		}
		return time.Since(changedAt) >= 200*time.Millisecond && strings.Contains(tree, "mcpmesh.provider.v1.ProviderService/CallTool (server")
	}) {
		t.Fatalf("the trace never settled:\n%s", tree)
	}
	return tree
}

// One tools/call yields the same span tree — every hop a client span and a server
// span, with the session's MCP span between — whether the targets share a process
// (-target=all, in-process hops) or run on six gRPC servers over loopback; and in
// -target=all every hop shows up in the rpc.server and rpc.client metrics.
func TestToolCallTracesAlikeInOneProcessAndSix(t *testing.T) {
	trees := map[string]string{}

	allSpans := spanStore{tracetest.NewInMemoryExporter()}
	all := runMeshes(t, allSpans, func([]*Mesh) meshconfig.Config { return allInOne(t) })
	_, httpAddr := all[0].Addresses()
	allTrace := callEcho(t, "http://"+httpAddr)
	trees["all"] = settledTree(t, allSpans, allTrace)

	sixSpans := spanStore{tracetest.NewInMemoryExporter()}
	six := runMeshes(t, sixSpans, separateProcesses()...)
	_, httpAddr = six[len(six)-1].Addresses()
	sixTrace := callEcho(t, "http://"+httpAddr)
	trees["six"] = settledTree(t, sixSpans, sixTrace)

	if trees["all"] != trees["six"] {
		t.Fatalf("span trees differ\n-- all --\n%s-- six --\n%s", trees["all"], trees["six"])
	}
	// A call that succeeded ends every span without an error: the caller of each hop
	// reads the stream's end rather than leaving it (CANCELLED on the client's side).
	if strings.Contains(trees["all"], "Error)") {
		t.Errorf("a successful call has error spans:\n%s", trees["all"])
	}
	// Three gRPC hops, each with both sides: gateway -> transport -> session -> provider.
	hops := []string{
		"mcpmesh.transport.v1.TransportService/",
		"mcpmesh.session.v1.SessionService/",
		"mcpmesh.provider.v1.ProviderService/CallTool",
	}
	for _, hop := range hops {
		for _, kind := range []string{"client", "server"} {
			if !slices.ContainsFunc(strings.Split(trees["all"], "\n"), func(line string) bool {
				return strings.Contains(line, hop) && strings.Contains(line, "("+kind+",")
			}) {
				t.Errorf("no %s span of %s in\n%s", kind, hop, trees["all"])
			}
		}
	}

	// In -target=all the in-process hops are measured like network ones.
	_, allHTTP := all[0].Addresses()
	resp, err := http.Get("http://" + allHTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range []string{"rpc_server_call_duration_seconds", "rpc_client_call_duration_seconds"} {
		methods := map[string]bool{}
		for _, metric := range families[family].GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			methods[labels["rpc_method"]] = true
			for _, hop := range hops {
				if strings.HasPrefix(labels["rpc_method"], hop) && labels["rpc_response_status_code"] != "OK" {
					t.Errorf("%s counts a %s call of %s; the calls succeeded", family, labels["rpc_response_status_code"], labels["rpc_method"])
				}
			}
		}
		for _, hop := range hops {
			found := false
			for method := range methods {
				found = found || strings.HasPrefix(method, hop)
			}
			if !found {
				t.Errorf("%s has no series for %s in -target=all (has %v)", family, hop, methods)
			}
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
