package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/services/kit/rpcstatus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testRegistry serves WatchCatalogue with a fixed snapshot (or nothing when snapshot
// is nil) and keeps the stream open.
type testRegistry struct {
	registryv1.UnimplementedRegistryServiceServer
	snapshot *registryv1.WatchCatalogueResponse
}

func (r *testRegistry) WatchCatalogue(_ *registryv1.WatchCatalogueRequest, stream grpc.ServerStreamingServer[registryv1.WatchCatalogueResponse]) error {
	if r.snapshot != nil {
		if err := stream.Send(r.snapshot); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

// testProvider is a small real provider. Tool behaviour depends on the tool name.
type testProvider struct {
	providerv1.UnimplementedProviderServiceServer
	blockStarted chan struct{}
	blockEnded   chan error

	mu       sync.Mutex
	lastCall *providerv1.CallToolRequest
	// lastMD is the metadata of the last CallTool (what a provider learns besides the request).
	lastMD metadata.MD
}

func (p *testProvider) CallTool(req *providerv1.CallToolRequest, stream grpc.ServerStreamingServer[providerv1.CallToolResponse]) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	p.mu.Lock()
	p.lastCall, p.lastMD = req, md
	p.mu.Unlock()
	send := func(ev *providerv1.CallToolResponse) error { return stream.Send(ev) }
	switch req.GetName() {
	case "p_echo":
		_ = send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Progress{Progress: &mcpv1.Progress{Progress: 1, Total: 2, Message: "half"}}})
		_ = send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Log{Log: &mcpv1.LogMessage{Level: "debug", Logger: "t", Data: []byte(`"low"`)}}})
		_ = send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Log{Log: &mcpv1.LogMessage{Level: "error", Logger: "t", Data: []byte(`"high"`)}}})
		text, _ := json.Marshal(string(req.GetArguments()))
		return send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: &mcpv1.ToolResult{
			Content:           []byte(`[{"type":"text","text":` + string(text) + `}]`),
			StructuredContent: []byte(`{"ok":true}`),
		}}})
	case "p_block":
		// The channels hold one signal each for the test that waits; a further p_block
		// call nobody waits for must not leave its handler stuck on a full channel.
		select {
		case p.blockStarted <- struct{}{}:
		default:
		}
		<-stream.Context().Done()
		select {
		case p.blockEnded <- stream.Context().Err():
		default:
		}
		return stream.Context().Err()
	case "p_gone":
		return status.Error(codes.NotFound, "no such tool")
	case "p_fail_with":
		// Fails with the JSON-RPC code its arguments name, carried as kit/rpcstatus
		// carries it (a federated upstream's -32021).
		var args struct {
			Code int `json:"code"`
		}
		_ = json.Unmarshal(req.GetArguments(), &args)
		return rpcstatus.Error(codes.FailedPrecondition, "TEST", args.Code, "sampling capability required", []byte(`{"requiredCapabilities":{"sampling":{}}}`))
	case "p_input":
		return send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_InputRequired{InputRequired: &mcpv1.InputRequired{}}})
	case "p_struct":
		// Returns the structured content and isError the arguments ask for.
		var args struct {
			Out     json.RawMessage `json:"out"`
			IsError bool            `json:"isError"`
		}
		_ = json.Unmarshal(req.GetArguments(), &args)
		return send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: &mcpv1.ToolResult{
			Content: []byte(`[{"type":"text","text":"structured"}]`), StructuredContent: args.Out, IsError: args.IsError,
		}}})
	case "p_ask_first":
		// Like p_ask, but asks before its task exists (before_task).
		if ir := askOrAnswer(req.GetArguments(), req.GetContext()); ir != nil {
			ir.BeforeTask = true
			return send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_InputRequired{InputRequired: ir}})
		}
		return send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: &mcpv1.ToolResult{
			Content: answeredContent(req.GetContext()),
		}}})
	case "p_ask":
		// Asks for the input requests in its arguments until answered, then reports the
		// answers and its own state.
		if ir := askOrAnswer(req.GetArguments(), req.GetContext()); ir != nil {
			return send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_InputRequired{InputRequired: ir}})
		}
		return send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: &mcpv1.ToolResult{
			Content: answeredContent(req.GetContext()),
		}}})
	}
	return status.Error(codes.Internal, "unexpected tool")
}

func (p *testProvider) ReadResource(_ context.Context, req *providerv1.ReadResourceRequest) (*providerv1.ReadResourceResponse, error) {
	if req.GetUri() == "mem://missing-at-provider" {
		return nil, status.Error(codes.NotFound, "gone")
	}
	text, _ := json.Marshal("contents of " + req.GetUri())
	return &providerv1.ReadResourceResponse{Contents: []byte(`[{"uri":"` + req.GetUri() + `","text":` + string(text) + `}]`)}, nil
}

func (p *testProvider) GetPrompt(_ context.Context, req *providerv1.GetPromptRequest) (*providerv1.GetPromptResponse, error) {
	if req.GetName() == "p_ask_prompt" {
		if ir := askOrAnswer([]byte(req.GetArguments()["requests"]), req.GetContext()); ir != nil {
			return &providerv1.GetPromptResponse{InputRequired: ir}, nil
		}
		return &providerv1.GetPromptResponse{Messages: []byte(`[{"role":"user","content":` + string(answeredContent(req.GetContext())[1:len(answeredContent(req.GetContext()))-1]) + `}]`)}, nil
	}
	if req.GetName() != "p_greet" {
		return nil, status.Error(codes.NotFound, "no prompt")
	}
	if req.GetArguments()["who"] == "" {
		return nil, status.Error(codes.InvalidArgument, "argument who is required")
	}
	return &providerv1.GetPromptResponse{
		Description: "greets",
		Messages:    []byte(`[{"role":"user","content":{"type":"text","text":"hello ` + req.GetArguments()["who"] + `"}}]`),
	}, nil
}

func (p *testProvider) Complete(_ context.Context, req *providerv1.CompleteRequest) (*providerv1.CompleteResponse, error) {
	return &providerv1.CompleteResponse{Values: []string{string(req.GetRef()), req.GetArgumentName() + "=" + req.GetArgumentValue()}, Total: 2}, nil
}

// askOrAnswer returns the input_required for the requests in args ({"requests":{...}}
// or the requests object itself) unless the context already carries answers.
func askOrAnswer(args []byte, rc *mcpv1.RequestContext) *mcpv1.InputRequired {
	if len(rc.GetInputResponses()) > 0 {
		return nil
	}
	var wrapped struct {
		Requests map[string]json.RawMessage `json:"requests"`
	}
	requests := map[string]json.RawMessage{}
	if json.Unmarshal(args, &wrapped) == nil && wrapped.Requests != nil {
		requests = wrapped.Requests
	} else {
		_ = json.Unmarshal(args, &requests)
	}
	ir := &mcpv1.InputRequired{InputRequests: map[string][]byte{}, RequestState: []byte("provider-state-1")}
	for k, v := range requests {
		ir.InputRequests[k] = v
	}
	return ir
}

// answeredContent reports the answers and the provider state a retry carried, as one
// text block.
func answeredContent(rc *mcpv1.RequestContext) []byte {
	keys := make([]string, 0, len(rc.GetInputResponses()))
	for k := range rc.GetInputResponses() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	text := "state=" + string(rc.GetRequestState())
	for _, k := range keys {
		text += " " + k + "=" + string(rc.GetInputResponses()[k])
	}
	quoted, _ := json.Marshal(text)
	return []byte(`[{"type":"text","text":` + string(quoted) + `}]`)
}

// fullTool has every optional field, to check what each version keeps.
func fullTool(name string) *mcpv1.Tool {
	return &mcpv1.Tool{
		Name: name, Title: "Echo", Description: "echoes",
		InputSchema:  []byte(`{"type":"object"}`),
		OutputSchema: []byte(`{"type":"object"}`),
		Annotations:  []byte(`{"readOnlyHint":true}`),
		Icons:        []byte(`[{"src":"https://example.com/i.png"}]`),
		Meta:         []byte(`{"k":"v"}`),
		Execution:    []byte(`{"taskSupport":"optional"}`),
	}
}

// catalogueFixture routes tools to the live provider "p" and the refusing provider
// "down".
func catalogueFixture(providerAddr, downAddr string) *registryv1.WatchCatalogueResponse {
	routed := func(exposed, provider, own string) *registryv1.RoutedTool {
		return &registryv1.RoutedTool{Name: exposed, Provider: provider, Tool: &mcpv1.Tool{Name: own, InputSchema: []byte(`{"type":"object"}`)}}
	}
	tools := []*registryv1.RoutedTool{
		{Name: "echo", Provider: "p", Tool: fullTool("p_echo")},
		routed("block", "p", "p_block"),
		routed("gone", "p", "p_gone"),
		routed("input", "p", "p_input"),
		routed("flaky", "down", "d_flaky"),
	}
	for i := range 5 {
		tools = append(tools, routed(fmt.Sprintf("filler_%d", i), "p", "p_filler"))
	}
	return &registryv1.WatchCatalogueResponse{
		Revision: 1,
		Providers: []*registryv1.Provider{
			{Name: "p", Address: providerAddr, Instructions: "Use p for echoes."},
			{Name: "down", Address: downAddr},
		},
		Tools: tools,
		Resources: []*registryv1.RoutedResource{
			{Provider: "p", Resource: &mcpv1.Resource{Uri: "mem://a", Name: "a"}},
			{Provider: "p", Resource: &mcpv1.Resource{Uri: "mem://missing-at-provider", Name: "m"}},
		},
		ResourceTemplates: []*registryv1.RoutedResourceTemplate{
			{Provider: "p", ResourceTemplate: &mcpv1.ResourceTemplate{UriTemplate: "file:///{path}", Name: "files"}},
		},
		Prompts: []*registryv1.RoutedPrompt{
			{Name: "greet", Provider: "p", Prompt: &mcpv1.Prompt{Name: "p_greet", Arguments: []*mcpv1.PromptArgument{{Name: "who", Required: true}}}},
		},
	}
}

type harness struct {
	svc      *Service
	client   sessionv1.SessionServiceClient
	provider *testProvider
}

// newHarness runs the session service and a test registry on a kit gRPC server (in
// process), and the test provider on loopback TCP. snapshot=false keeps the
// catalogue from ever loading.
func newHarness(t *testing.T, snapshot bool, adjust func(*Config)) *harness {
	t.Helper()
	return newHarnessOn(t, nil, snapshot, adjust)
}

// newHarnessOn is newHarness with session records in db (nil: in memory). Harnesses on
// the same db are replicas of one deployment.
func newHarnessOn(t *testing.T, db *pgxpool.Pool, snapshot bool, adjust func(*Config)) *harness {
	t.Helper()
	fixture := catalogueFixture
	if !snapshot {
		fixture = nil
	}
	return newHarnessWith(t, db, fixture, adjust)
}

// newHarnessWith is newHarnessOn with the registry serving fixture(provider address,
// refusing address); nil serves no catalogue.
func newHarnessWith(t *testing.T, db *pgxpool.Pool, fixture func(providerAddr, downAddr string) *registryv1.WatchCatalogueResponse, adjust func(*Config)) *harness {
	t.Helper()
	return newHarnessDeps(t, db, fixture, adjust, nil)
}

// newHarnessDeps is newHarnessWith with adjustDeps changing the service's Deps (nil:
// none) before it is built.
func newHarnessDeps(t *testing.T, db *pgxpool.Pool, fixture func(providerAddr, downAddr string) *registryv1.WatchCatalogueResponse,
	adjust func(*Config), adjustDeps func(*Deps)) *harness {
	t.Helper()
	snapshot := fixture != nil
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

	// An address nobody listens on: connections are refused.
	downLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := downLis.Addr().String()
	_ = downLis.Close()

	reg := &testRegistry{}
	if snapshot {
		reg.snapshot = fixture(provLis.Addr().String(), downAddr)
	}
	server := grpcserver.New(grpcserver.Settings{Logger: logger})
	server.Register(&registryv1.RegistryService_ServiceDesc, reg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	})

	dialer := dial.New(nil)
	t.Cleanup(func() { _ = dialer.Close() })

	cfg := DefaultConfig()
	cfg.PageSize = 3
	cfg.ToolCallTimeout = 10 * time.Second
	if adjust != nil {
		adjust(&cfg)
	}
	deps := Deps{Telemetry: kit.TelemetrySettings{Logger: logger}, Registry: registryv1.NewRegistryServiceClient(server.InProcess()), Conns: dialer, DB: db, Version: testVersion}
	if adjustDeps != nil {
		adjustDeps(&deps)
	}
	svc, err := New(cfg, deps)
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
	if snapshot {
		waitFor(t, "catalogue to load", svc.Ready)
	}
	return &harness{svc: svc, client: sessionv1.NewSessionServiceClient(server.InProcess()), provider: prov}
}

// waitFor polls cond until it holds, failing the test after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually.True(t, 10*time.Second, cond, "%s", what)
}

// initialize opens a session at version.
func (h *harness) initialize(t *testing.T, version string) *sessionv1.Session {
	t.Helper()
	resp, err := h.client.Initialize(t.Context(), &sessionv1.InitializeRequest{
		Params: []byte(`{"protocolVersion":"` + version + `","capabilities":{},"clientInfo":{"name":"test","version":"1"}}`),
	})
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return resp.GetSession()
}

// handled is the outcome of one Handle call.
type handled struct {
	notifications []*sessionv1.Notification
	result        map[string]any
	rawResult     []byte
	err           *sessionv1.Error
}

// handle runs a Handle call to its end and checks its shape: at most one terminal
// event, and it comes last.
func (h *harness) handle(t *testing.T, req *sessionv1.HandleRequest) (handled, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	stream, err := h.client.Handle(ctx, req)
	if err != nil {
		return handled{}, err
	}
	var ev handled
	terminal := 0
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ev, err
		}
		if terminal > 0 {
			t.Fatalf("event after the result: %v", resp)
		}
		switch e := resp.GetEvent().(type) {
		case *sessionv1.HandleResponse_Notification:
			ev.notifications = append(ev.notifications, e.Notification)
		case *sessionv1.HandleResponse_Result:
			terminal++
			ev.rawResult = e.Result
			if err := json.Unmarshal(e.Result, &ev.result); err != nil {
				t.Fatalf("result is not a JSON object: %s", e.Result)
			}
		case *sessionv1.HandleResponse_Error:
			terminal++
			ev.err = e.Error
			if len(e.Error.GetData()) > 0 && !json.Valid(e.Error.GetData()) {
				t.Fatalf("error data is not JSON: %s", e.Error.GetData())
			}
		}
	}
	if req.GetNotification() && (terminal > 0 || len(ev.notifications) > 0) {
		t.Fatalf("notification %s produced events", req.GetMethod())
	}
	if !req.GetNotification() && terminal != 1 {
		t.Fatalf("request %s ended with %d results/errors", req.GetMethod(), terminal)
	}
	return ev, nil
}

// mustResult runs a request that must succeed with a result.
func (h *harness) mustResult(t *testing.T, req *sessionv1.HandleRequest) handled {
	t.Helper()
	ev, err := h.handle(t, req)
	if err != nil {
		t.Fatalf("%s: %v", req.GetMethod(), err)
	}
	if ev.err != nil {
		t.Fatalf("%s: JSON-RPC error %d %s", req.GetMethod(), ev.err.GetCode(), ev.err.GetMessage())
	}
	return ev
}

// mustError runs a request that must end with a JSON-RPC error of code.
func (h *harness) mustError(t *testing.T, req *sessionv1.HandleRequest, code int32) *sessionv1.Error {
	t.Helper()
	ev, err := h.handle(t, req)
	if err != nil {
		t.Fatalf("%s: %v", req.GetMethod(), err)
	}
	if ev.err == nil || ev.err.GetCode() != code {
		t.Fatalf("%s: want JSON-RPC error %d, got result %s / error %v", req.GetMethod(), code, ev.rawResult, ev.err)
	}
	return ev.err
}

func stateful(sess *sessionv1.Session, method, params string) *sessionv1.HandleRequest {
	return &sessionv1.HandleRequest{SessionId: sess.GetId(), Method: method, Params: []byte(params), RequestId: []byte("1")}
}

const statelessMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

func stateless(method, params string) *sessionv1.HandleRequest {
	return &sessionv1.HandleRequest{ProtocolVersion: "2026-07-28", Method: method, Params: []byte(params), RequestId: []byte(`"r1"`)}
}

func newHarnessLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testVersion is the build version the harness gives the service: serverInfo.version
// must carry it.
const testVersion = "v9.8.7-test"
