package registry

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testProvider is a small real ProviderService. Tools behave by name:
//   - "ask" asks for client input;
//   - "bad_args" rejects its arguments;
//   - anything else sends a progress and a log event, then echoes its arguments.
type testProvider struct {
	providerv1.UnimplementedProviderServiceServer

	mu   sync.Mutex
	desc *providerv1.DescribeResponse
}

func newTestProvider(cat *mcpv1.Catalogue) *testProvider {
	return &testProvider{desc: &providerv1.DescribeResponse{Version: "1.0.0", Catalogue: cat}}
}

func (p *testProvider) setCatalogue(cat *mcpv1.Catalogue) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.desc = &providerv1.DescribeResponse{Version: p.desc.GetVersion(), Catalogue: cat}
}

func (p *testProvider) Describe(context.Context, *providerv1.DescribeRequest) (*providerv1.DescribeResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.desc, nil
}

func (p *testProvider) CallTool(req *providerv1.CallToolRequest, stream providerv1.ProviderService_CallToolServer) error {
	switch req.GetName() {
	case "ask":
		return stream.Send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_InputRequired{
			InputRequired: &mcpv1.InputRequired{
				InputRequests: map[string][]byte{"q": []byte(`{"method":"elicitation/create","params":{}}`)},
				RequestState:  []byte("state"),
			},
		}})
	case "bad_args":
		return status.Error(codes.InvalidArgument, "missing argument text")
	}
	if err := stream.Send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Progress{Progress: &mcpv1.Progress{Progress: 1}}}); err != nil {
		return err
	}
	if err := stream.Send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Log{Log: &mcpv1.LogMessage{Level: "info", Data: []byte(`"working"`)}}}); err != nil {
		return err
	}
	content, _ := json.Marshal([]map[string]string{{"type": "text", "text": req.GetName()}})
	return stream.Send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: &mcpv1.ToolResult{
		Content:           content,
		StructuredContent: []byte(`{"tool":"` + req.GetName() + `","args":` + string(req.GetArguments()) + `}`),
	}}})
}

// serveProvider serves p over loopback TCP and returns its address and a function
// that stops it (also run at cleanup).
func serveProvider(t *testing.T, p providerv1.ProviderServiceServer) (string, func()) {
	t.Helper()
	srv := grpcserver.New(grpcserver.Settings{Logger: testLogger(t)})
	srv.Register(&providerv1.ProviderService_ServiceDesc, p)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			<-done
		})
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

// refusedAddress is a loopback address where nothing listens.
func refusedAddress(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	svc    *Service
	client registryv1.RegistryServiceClient
	clock  *fakeClock
}

// newHarness builds a registry reached through kit/grpcserver's in-process channel,
// with a real dialer for providers and a fake clock. Start is left to the test.
func newHarness(t *testing.T, cfg Config, with ...func(*Deps)) *harness {
	t.Helper()
	return newHarnessOn(t, cfg, nil, with...)
}

// newHarnessOn is newHarness with provider records in db (nil: in memory). Harnesses
// on the same db are replicas of one deployment.
func newHarnessOn(t *testing.T, cfg Config, db *pgxpool.Pool, with ...func(*Deps)) *harness {
	t.Helper()
	logger := testLogger(t)
	dialer := dial.New(nil)
	t.Cleanup(func() { _ = dialer.Close() })
	clock := newFakeClock()
	deps := Deps{Telemetry: kit.TelemetrySettings{Logger: logger}, Conns: dialer, Now: clock.Now, DB: db}
	for _, f := range with {
		f(&deps)
	}
	svc, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	srv := grpcserver.New(grpcserver.Settings{Logger: logger})
	svc.Register(srv)
	// Never served over the network, but its stream workers run until shutdown. This
	// cleanup runs before svc.Stop: watch streams must end (at t.Context's cancel)
	// before the drain, as they do.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &harness{svc: svc, client: registryv1.NewRegistryServiceClient(srv.InProcess()), clock: clock}
}

func (h *harness) register(t *testing.T, name, addr string, leaseSeconds int32) *registryv1.RegisterProviderResponse {
	t.Helper()
	resp, err := h.client.RegisterProvider(t.Context(), &registryv1.RegisterProviderRequest{Name: name, Address: addr, LeaseSeconds: leaseSeconds})
	if err != nil {
		t.Fatalf("RegisterProvider(%s): %v", name, err)
	}
	return resp
}

// testLogger logs through t until its cleanup runs; lines that goroutines write later
// are dropped instead of panicking.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSuffix(string(b), "\n"))
	}
	return len(b), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

func tools(names ...string) []*mcpv1.Tool {
	out := make([]*mcpv1.Tool, len(names))
	for i, n := range names {
		out[i] = &mcpv1.Tool{Name: n, Description: "tool " + n, InputSchema: []byte(`{"type":"object","properties":{"text":{"type":"string"}}}`)}
	}
	return out
}

func prompts(names ...string) []*mcpv1.Prompt {
	out := make([]*mcpv1.Prompt, len(names))
	for i, n := range names {
		out[i] = &mcpv1.Prompt{Name: n}
	}
	return out
}

func resources(uris ...string) []*mcpv1.Resource {
	out := make([]*mcpv1.Resource, len(uris))
	for i, u := range uris {
		out[i] = &mcpv1.Resource{Uri: u, Name: u}
	}
	return out
}

func wantCode(t *testing.T, err error, code codes.Code) *status.Status {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	return st
}
