package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/rpcstatus"
)

// samplingUpstream is a Go SDK MCP server whose tool "sample" asks the client's LLM
// the question in its arguments and answers with what the LLM said. It asks the
// 2026-07-28 way (an input_required result); for a client of an earlier generation
// the SDK turns that into a sampling/createMessage request on the session.
func samplingUpstream(t *testing.T, stateless bool) string {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "sampler", Version: "1.0.0"}, nil)
	type args struct {
		Question string `json:"question"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "sample", Description: "Asks the client's LLM."},
		func(_ context.Context, req *mcp.CallToolRequest, in args) (*mcp.CallToolResult, any, error) {
			answer, ok := req.Params.InputResponses["llm"]
			if !ok {
				return &mcp.CallToolResult{
					InputRequests: mcp.InputRequestMap{"llm": &mcp.CreateMessageParams{
						MaxTokens: 50,
						Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Question}}},
					}},
					RequestState: "asked:" + in.Question,
				}, nil, nil
			}
			res, ok := answer.(*mcp.CreateMessageWithToolsResult)
			if !ok || len(res.Content) != 1 || req.Params.RequestState != "asked:"+in.Question {
				return nil, nil, fmt.Errorf("unexpected answer %T %+v (state %q)", answer, answer, req.Params.RequestState)
			}
			text, _ := res.Content[0].(*mcp.TextContent)
			if text == nil {
				return nil, nil, fmt.Errorf("answer content %T", res.Content[0])
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "the LLM (" + res.Model + ") said: " + text.Text}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "roots", Description: "Lists the client's roots."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			answer, ok := req.Params.InputResponses["where"].(*mcp.ListRootsResult) //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
			if !ok {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"where": &mcp.ListRootsParams{}}}, nil, nil //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
			}
			var uris []string
			for _, r := range answer.Roots {
				uris = append(uris, r.URI)
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "roots: " + strings.Join(uris, " ")}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "enums", Description: "Asks the client to pick from enums."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			pick := &mcp.ElicitParams{Message: "Pick", RequestedSchema: json.RawMessage(enumSchema)}
			answer, ok := req.Params.InputResponses["pick"].(*mcp.ElicitResult)
			if ip := req.Session.InitializeParams(); ip != nil && ip.ProtocolVersion < statelessVersion {
				// Asked on the session, as the Go SDK's conformance server does (the
				// SDK's own translation of input requests checks the schema first).
				var err error
				if answer, err = req.Session.Elicit(ctx, pick); err != nil {
					return nil, nil, err
				}
			} else if !ok {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"pick": pick}}, nil, nil
			}
			content, err := json.Marshal(answer.Content)
			if err != nil {
				return nil, nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: answer.Action + " " + string(content)}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "caps", Description: "Tells which input kinds the caller declared."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			var kinds []string
			if caps := req.ClientCapabilities(); caps != nil {
				if caps.Sampling != nil {
					kinds = append(kinds, "sampling")
				}
				if caps.Elicitation != nil {
					kinds = append(kinds, "elicitation")
				}
				if caps.RootsV2 != nil { //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
					kinds = append(kinds, "roots")
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Join(kinds, " ")}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "needs_sampling", Description: "Fails with -32021 unless the caller declared sampling."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			if caps := req.ClientCapabilities(); caps != nil && caps.Sampling != nil {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "sampling declared"}}}, nil, nil
			}
			return nil, nil, &jsonrpc.Error{Code: mcp.CodeMissingRequiredClientCapabilities, Message: "sampling capability required",
				Data: json.RawMessage(`{"requiredCapabilities":{"sampling":{}}}`)}
		})
	s.AddPrompt(&mcp.Prompt{Name: "brief", Description: "Asks the user for the context of the prompt."},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			answer, ok := req.Params.InputResponses["context"].(*mcp.ElicitResult)
			if !ok {
				return &mcp.GetPromptResult{InputRequests: mcp.InputRequestMap{"context": &mcp.ElicitParams{
					Message:         "What context should the prompt use?",
					RequestedSchema: json.RawMessage(`{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}`),
				}}, RequestState: "asked for context"}, nil
			}
			if req.Params.RequestState != "asked for context" {
				return nil, fmt.Errorf("request state %q", req.Params.RequestState)
			}
			return &mcp.GetPromptResult{Description: "briefed", Messages: []*mcp.PromptMessage{
				{Role: "user", Content: &mcp.TextContent{Text: fmt.Sprintf("Context: %v (%s)", answer.Content["context"], answer.Action)}},
			}}, nil
		})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: stateless}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		for ss := range s.Sessions() {
			_ = ss.Close()
		}
	})
	return srv.URL
}

// relayFixture connects the federation to a sampling upstream (at protocolVersion;
// "" for the newest) and serves its ProviderService over gRPC on a loopback port.
func relayFixture(t *testing.T, protocolVersion string, callTimeout time.Duration) (*upstream, providerv1.ProviderServiceClient) {
	t.Helper()
	u, c, _ := federationInstance(t, samplingUpstream(t, protocolVersion == ""), protocolVersion, callTimeout)
	return u, c
}

// federationInstance is one federation's upstream "sampler" at url (speaking
// protocolVersion; "" for the newest) and its ProviderService over gRPC on a loopback
// port; stop ends both (the test's end does too).
func federationInstance(t *testing.T, url, protocolVersion string, callTimeout time.Duration) (*upstream, providerv1.ProviderServiceClient, func()) {
	t.Helper()
	cfg := DefaultConfig()
	breakers, err := breaker.New(cfg.Breaker, breaker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := newUpstream(Upstream{Name: "sampler", URL: url, CallTimeout: callTimeout}, cfg, discard(), breakers)
	if protocolVersion != "" {
		u.sessionOptions = &mcp.ClientSessionOptions{ProtocolVersion: protocolVersion}
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopping := make(chan struct{})
	u.stopping = stopping
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		u.run(ctx, func(bool) {}, func(context.Context) {})
	}()
	gs := grpc.NewServer()
	stop := sync.OnceFunc(func() { gs.Stop(); close(stopping); cancel(); <-ran })
	t.Cleanup(stop)
	eventually.NoError(t, 10*time.Second, func() error { _, err := u.current(); return err }, "the upstream connects")
	s, _ := u.current()
	if want := cmpOr(protocolVersion, statelessVersion); s.InitializeResult().ProtocolVersion != want {
		t.Fatalf("negotiated %s, want %s", s.InitializeResult().ProtocolVersion, want)
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	providerv1.RegisterProviderServiceServer(gs, u)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return u, providerv1.NewProviderServiceClient(conn), stop
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// samplingClient is the identity of a mesh client that declared sampling.
func samplingClient(session string) *mcpv1.RequestContext {
	return &mcpv1.RequestContext{
		SessionId: session,
		Client: &mcpv1.ClientIdentity{
			ClientInfo:   []byte(`{"name":"relay-test","version":"1.0.0"}`),
			Capabilities: []byte(`{"sampling":{}}`),
		},
	}
}

// callOnce runs one CallTool stream to its end and returns its last event.
func callOnce(t *testing.T, c providerv1.ProviderServiceClient, args string, rc *mcpv1.RequestContext) (*providerv1.CallToolResponse, error) {
	t.Helper()
	return callTool(t, c, "sample", args, rc)
}

func callTool(t *testing.T, c providerv1.ProviderServiceClient, name, args string, rc *mcpv1.RequestContext) (*providerv1.CallToolResponse, error) {
	t.Helper()
	stream, err := c.CallTool(t.Context(), &providerv1.CallToolRequest{Name: name, Arguments: []byte(args), Context: rc})
	if err != nil {
		return nil, err
	}
	var last *providerv1.CallToolResponse
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if last == nil {
				return nil, errors.New("the stream ended without an event")
			}
			return last, nil
		}
		if err != nil {
			return nil, err
		}
		last = resp
	}
}

// askedSampling checks that resp relays the upstream's sampling request for question
// and returns its key and the request state.
func askedSampling(t *testing.T, resp *providerv1.CallToolResponse, question string) (string, []byte) {
	t.Helper()
	ir := resp.GetInputRequired()
	if ir == nil || len(ir.GetInputRequests()) != 1 || len(ir.GetRequestState()) == 0 {
		t.Fatalf("want input_required with one request and a state, got %v", resp)
	}
	for key, raw := range ir.GetInputRequests() {
		var r struct {
			Method string                  `json:"method"`
			Params mcp.CreateMessageParams `json:"params"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("input request %s: %v", raw, err)
		}
		text, _ := r.Params.Messages[0].Content.(*mcp.TextContent)
		if r.Method != "sampling/createMessage" || text == nil || text.Text != question || r.Params.MaxTokens != 50 {
			t.Fatalf("relayed request %s", raw)
		}
		return key, ir.GetRequestState()
	}
	panic("unreachable")
}

func answered(rc *mcpv1.RequestContext, key string, state []byte, text string) *mcpv1.RequestContext {
	rc.InputResponses = map[string][]byte{key: fmt.Appendf(nil, `{"role":"assistant","model":"test-llm","content":{"type":"text","text":%q}}`, text)}
	rc.RequestState = state
	return rc
}

func resultText(t *testing.T, resp *providerv1.CallToolResponse) (string, bool) {
	t.Helper()
	res := resp.GetResult()
	if res == nil {
		t.Fatalf("want a result, got %v", resp)
	}
	var content []struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(res.GetContent(), &content); err != nil || len(content) != 1 {
		t.Fatalf("content %s: %v", res.GetContent(), err)
	}
	return content[0].Text, res.GetIsError()
}

// An upstream's sampling request ends the provider's stream with input_required; the
// retry with the answer and the request state reaches the upstream, whose result
// carries the answer. For a 2026-07-28 upstream the request is its input_required
// result, relayed with a retry state, and the retry calls the upstream again; for a
// 2025-11-25 one, a sampling/createMessage request on its session, and the retry
// resumes the paused call.
func TestRelaySamplingToTheClientAndBack(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			u, c := relayFixture(t, version, 0)
			resp, err := callOnce(t, c, `{"question":"what is six times seven?"}`, samplingClient("s1"))
			if err != nil {
				t.Fatal(err)
			}
			key, state := askedSampling(t, resp, "what is six times seven?")
			// The upstream's own key, or the one a session-level request is relayed under.
			if want := map[string]string{"": "llm", "2025-11-25": sessionInputKey}[version]; key != want {
				t.Errorf("input request key %q, want %q", key, want)
			}
			if want := map[string]string{"": retryStatePrefix, "2025-11-25": statePrefix}[version]; !strings.HasPrefix(string(state), want) {
				t.Errorf("request state %q, want the prefix %q", state, want)
			}

			// Another client cannot use the state, and its attempt does not spend it.
			other := samplingClient("s2")
			resp, err = callOnce(t, c, `{"question":"what is six times seven?"}`, answered(other, key, state, "stolen"))
			if version == "" {
				if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "issued to another client") {
					t.Errorf("another client's retry: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if text, isErr := resultText(t, resp); !isErr || !strings.Contains(text, "no longer pending") {
				t.Errorf("another client's resume: %q (error %v)", text, isErr)
			}

			resp, err = callOnce(t, c, `{"question":"what is six times seven?"}`, answered(samplingClient("s1"), key, state, "42"))
			if err != nil {
				t.Fatal(err)
			}
			if text, isErr := resultText(t, resp); isErr || text != "the LLM (test-llm) said: 42" {
				t.Errorf("result %q (error %v)", text, isErr)
			}

			// A paused call's state is good for one resume. A 2026-07-28 upstream's is
			// not spent by the federation: the upstream decides (this one keeps no
			// record, and answers again).
			resp, err = callOnce(t, c, `{"question":"what is six times seven?"}`, answered(samplingClient("s1"), key, state, "43"))
			if err != nil {
				t.Fatal(err)
			}
			text, isErr := resultText(t, resp)
			if version == "" && (isErr || text != "the LLM (test-llm) said: 43") {
				t.Errorf("second retry: %q (error %v)", text, isErr)
			}
			if version != "" && (!isErr || !strings.Contains(text, "no longer pending")) {
				t.Errorf("second resume: %q (error %v)", text, isErr)
			}
			eventually.True(t, 5*time.Second, func() bool { return pendingCalls(u) == 0 }, "the finished call is forgotten")
		})
	}
}

func pendingCalls(u *upstream) int {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return len(u.forwarded) + len(u.paused)
}

// A paused call (a 2025-11-25 upstream's request on its session) ends with the
// upstream's call timeout: the upstream call is cancelled, the pause forgotten, and a
// late retry gets a tool error rather than a hang. An unknown request state gets the
// same error.
func TestRelayPendingInputTimesOut(t *testing.T) {
	u, c := relayFixture(t, "2025-11-25", 300*time.Millisecond)
	resp, err := callOnce(t, c, `{"question":"slow?"}`, samplingClient("s1"))
	if err != nil {
		t.Fatal(err)
	}
	key, state := askedSampling(t, resp, "slow?")
	eventually.True(t, 5*time.Second, func() bool { return pendingCalls(u) == 0 }, "the timed-out call is forgotten")
	for _, s := range [][]byte{state, []byte(statePrefix + "bogus"), []byte("not ours")} {
		resp, err = callOnce(t, c, `{"question":"slow?"}`, answered(samplingClient("s1"), key, s, "late"))
		if err != nil {
			t.Fatal(err)
		}
		if text, isErr := resultText(t, resp); !isErr || !strings.Contains(text, "no longer pending") || !strings.Contains(text, "sampler") {
			t.Errorf("resume with %q: %q (error %v)", s, text, isErr)
		}
	}
}

// A client that did not declare sampling is not asked: the upstream's call fails with
// a clear error at once, and nothing stays pending.
func TestRelayRefusesWhatTheClientCannotAnswer(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			u, c := relayFixture(t, version, 0)
			rc := samplingClient("s1")
			rc.Client.Capabilities = []byte(`{"elicitation":{}}`)
			resp, err := callOnce(t, c, `{"question":"?"}`, rc)
			if err == nil {
				if text, isErr := resultText(t, resp); !isErr || !strings.Contains(text, "did not declare") {
					t.Errorf("result %q (error %v)", text, isErr)
				}
			} else if !strings.Contains(status.Convert(err).Message(), "did not declare") {
				t.Errorf("error %v", err)
			}
			eventually.True(t, 5*time.Second, func() bool { return pendingCalls(u) == 0 }, "nothing stays pending")
		})
	}
}

// A request the upstream sends while no forwarded call runs names no client to ask: it
// gets a clear JSON-RPC error.
func TestRelaySessionRequestOutsideACall(t *testing.T) {
	u := newUpstream(Upstream{Name: "idle"}, DefaultConfig(), discard(), nil)
	_, err := u.relayCreateMessage(t.Context(), &mcp.CreateMessageWithToolsRequest{Params: &mcp.CreateMessageWithToolsParams{}})
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc.CodeInvalidRequest || !strings.Contains(rpcErr.Message, "response stream of that call") {
		t.Fatalf("got %v", err)
	}
}

// Session-level requests of a 2025-11-25 upstream serving several forwarded calls at
// once each reach the client of the call they were sent for: the tap sees them on
// that call's response stream.
func TestRelayAttributesConcurrentSessionRequests(t *testing.T) {
	_, c := relayFixture(t, "2025-11-25", 0)
	const calls = 4
	type paused struct {
		session, key string
		state        []byte
	}
	started := make(chan paused, calls)
	for i := range calls {
		session := fmt.Sprintf("s%d", i)
		go func() {
			resp, err := callOnce(t, c, fmt.Sprintf(`{"question":"question %d"}`, i), samplingClient(session))
			if err != nil {
				t.Errorf("%s: %v", session, err)
				started <- paused{}
				return
			}
			key, state := askedSampling(t, resp, fmt.Sprintf("question %d", i))
			started <- paused{session, key, state}
		}()
	}
	// Every call is paused at once, each on its own question, before any is answered.
	var all []paused
	for range calls {
		all = append(all, <-started)
	}
	for _, p := range all {
		if p.session == "" {
			t.FailNow()
		}
		i := strings.TrimPrefix(p.session, "s")
		resp, err := callOnce(t, c, `{"question":"question `+i+`"}`, answered(samplingClient(p.session), p.key, p.state, "answer "+i))
		if err != nil {
			t.Fatal(err)
		}
		if text, isErr := resultText(t, resp); isErr || text != "the LLM (test-llm) said: answer "+i {
			t.Errorf("%s: %q (error %v)", p.session, text, isErr)
		}
	}
}

// roots/list reaches the client and its answer the upstream, for both upstream
// generations (an input request of a 2026-07-28 upstream; a roots/list request on a
// 2025-11-25 upstream's session).
func TestRelayRootsToTheClientAndBack(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			_, c := relayFixture(t, version, 0)
			rc := func() *mcpv1.RequestContext {
				rc := samplingClient("s1")
				rc.Client.Capabilities = []byte(`{"roots":{}}`)
				return rc
			}
			resp, err := callTool(t, c, "roots", `{}`, rc())
			if err != nil {
				t.Fatal(err)
			}
			ir := resp.GetInputRequired()
			if ir == nil || len(ir.GetInputRequests()) != 1 {
				t.Fatalf("want input_required with one request, got %v", resp)
			}
			var key string
			for k, raw := range ir.GetInputRequests() {
				var r struct {
					Method string `json:"method"`
				}
				if err := json.Unmarshal(raw, &r); err != nil || r.Method != "roots/list" {
					t.Fatalf("relayed %s", raw)
				}
				key = k
			}
			answer := rc()
			answer.InputResponses = map[string][]byte{key: []byte(`{"roots":[{"uri":"file:///work","name":"work"},{"uri":"file:///tmp"}]}`)}
			answer.RequestState = ir.GetRequestState()
			resp, err = callTool(t, c, "roots", `{}`, answer)
			if err != nil {
				t.Fatal(err)
			}
			if text, isErr := resultText(t, resp); isErr || text != "roots: file:///work file:///tmp" {
				t.Errorf("result %q (error %v)", text, isErr)
			}
		})
	}
}

// The call reference is read from _meta only: arguments that imitate it do not move a
// call's requests to another call.
func TestCallRefInReadsMetaOnly(t *testing.T) {
	u := newUpstream(Upstream{Name: "refs"}, DefaultConfig(), discard(), nil)
	for body, want := range map[string]bool{
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"_meta":{"io.mcpmesh/federation-call":"f1"},"name":"t","arguments":{}}}`: true,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"t","arguments":{"io.mcpmesh/federation-call":"f1"}}}`:            false,
		`{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"_meta":{"io.mcpmesh/federation-call":"f1"},"name":"t"}}`:               true,
		`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"_meta":{"io.mcpmesh/federation-call":"f1"},"uri":"t"}}`:             false,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"_meta":{"io.mcpmesh/federation-call":7},"name":"t"}}`:                   false,
		`not json "io.mcpmesh/federation-call":"f1"`: false,
	} {
		if got := u.callRefIn([]byte(body)) != nil; got != want {
			t.Errorf("%s: recognised %v, want %v", body, got, want)
		}
	}
}

// enumSchema is an elicitation schema as the Go SDK's conformance server sends it for
// SEP-1330: its titled multi-select's items say "type":"string" beside anyOf, which
// the SDK client's own check refuses.
const enumSchema = `{"type":"object","properties":{` +
	`"titledMulti":{"type":"array","items":{"type":"string","anyOf":[{"const":"v1","title":"One"},{"const":"v2","title":"Two"}]}}}}`

// An elicitation reaches the client with its schema as the upstream sent it, and the
// client's answer reaches the upstream: the federation leaves judging the schema to
// the client. (The client declines: the upstream's SDK checks an accepted answer's
// schema itself, with the same check.)
func TestRelayElicitationAsSent(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			_, c := relayFixture(t, version, 0)
			rc := func() *mcpv1.RequestContext {
				rc := samplingClient("s1")
				rc.Client.Capabilities = []byte(`{"elicitation":{"form":{}}}`)
				return rc
			}
			resp, err := callTool(t, c, "enums", `{}`, rc())
			if err != nil {
				t.Fatal(err)
			}
			ir := resp.GetInputRequired()
			if ir == nil || len(ir.GetInputRequests()) != 1 {
				t.Fatalf("want input_required with one request, got %v", resp)
			}
			var key string
			for k, raw := range ir.GetInputRequests() {
				var r struct {
					Method string `json:"method"`
					Params struct {
						RequestedSchema any `json:"requestedSchema"`
					} `json:"params"`
				}
				var want any
				_ = json.Unmarshal([]byte(enumSchema), &want)
				if err := json.Unmarshal(raw, &r); err != nil || r.Method != "elicitation/create" || !reflect.DeepEqual(r.Params.RequestedSchema, want) {
					t.Fatalf("relayed %s", raw)
				}
				key = k
			}
			answer := rc()
			answer.InputResponses = map[string][]byte{key: []byte(`{"action":"decline"}`)}
			answer.RequestState = ir.GetRequestState()
			resp, err = callTool(t, c, "enums", `{}`, answer)
			if err != nil {
				t.Fatal(err)
			}
			if text, isErr := resultText(t, resp); isErr || text != "decline null" {
				t.Errorf("result %q (error %v)", text, isErr)
			}
		})
	}
}

// A forwarded call carries its caller's capabilities (those the federation can relay) in
// _meta, so an upstream that reads a request's capabilities asks only for input the
// caller can give, not for everything the federation declared on its session.
func TestRelayForwardsTheCallersCapabilities(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			_, c := relayFixture(t, version, 0)
			for declared, want := range map[string]string{
				`{"sampling":{}}`: "sampling",
				`{"elicitation":{},"roots":{"listChanged":true},"experimental":{}}`: "elicitation roots",
				`{}`: "",
			} {
				rc := samplingClient("s1")
				rc.Client.Capabilities = []byte(declared)
				resp, err := callTool(t, c, "caps", `{}`, rc)
				if err != nil {
					t.Fatal(err)
				}
				if text, isErr := resultText(t, resp); isErr || text != want {
					t.Errorf("declared %s: the upstream saw %q (error %v), want %q", declared, text, isErr, want)
				}
			}
		})
	}
}

// elicitingClient is the identity of a mesh client that declared elicitation.
func elicitingClient(session string) *mcpv1.RequestContext {
	rc := samplingClient(session)
	rc.Client.Capabilities = []byte(`{"elicitation":{}}`)
	return rc
}

// An upstream's elicitation while it renders a prompt reaches the client as the
// prompt's input_required, and the retry with the answer and the request state
// reaches the upstream's prompts/get, as for a tool call: for a 2026-07-28 upstream its
// input_required result (the retry gets the prompt again), for a 2025-11-25 one an
// elicitation/create request on its session (sent on the prompt's response stream;
// the retry resumes the waiting prompts/get). The state serves that prompt only, for
// that client only; a paused prompt's, once.
func TestRelayPromptElicitationToTheClientAndBack(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			u, c := relayFixture(t, version, 0)
			resp, err := c.GetPrompt(t.Context(), &providerv1.GetPromptRequest{Name: "brief", Context: elicitingClient("s1")})
			if err != nil {
				t.Fatal(err)
			}
			ir := resp.GetInputRequired()
			prefix := map[string]string{"": retryStatePrefix, "2025-11-25": statePrefix}[version]
			if ir == nil || len(ir.GetInputRequests()) != 1 || !strings.HasPrefix(string(ir.GetRequestState()), prefix) || len(resp.GetMessages()) != 0 {
				t.Fatalf("want input_required with one request and a state, got %v", resp)
			}
			var key string
			for k, raw := range ir.GetInputRequests() {
				var r struct {
					Method string           `json:"method"`
					Params mcp.ElicitParams `json:"params"`
				}
				if err := json.Unmarshal(raw, &r); err != nil || r.Method != "elicitation/create" || r.Params.Message != "What context should the prompt use?" {
					t.Fatalf("relayed %s (%v)", raw, err)
				}
				key = k
			}
			if want := map[string]string{"": "context", "2025-11-25": sessionInputKey}[version]; key != want {
				t.Errorf("input request key %q, want %q", key, want)
			}
			retry := func(rc *mcpv1.RequestContext) *mcpv1.RequestContext {
				rc.InputResponses = map[string][]byte{key: []byte(`{"action":"accept","content":{"context":"the quarterly report"}}`)}
				rc.RequestState = ir.GetRequestState()
				return rc
			}

			// Neither another client nor a tool call can use the state, and their
			// attempts do not spend it.
			refusal := map[string]string{"": "issued to another client", "2025-11-25": "no longer pending"}[version]
			_, err = c.GetPrompt(t.Context(), &providerv1.GetPromptRequest{Name: "brief", Context: retry(elicitingClient("s2"))})
			if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), refusal) ||
				!strings.Contains(st.Message(), "Get the prompt again") {
				t.Errorf("another client's retry: %v", err)
			}
			tool, err := callTool(t, c, "sample", `{"question":"?"}`, retry(elicitingClient("s1")))
			if version == "" {
				if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "issued for prompt brief, not tool sample") {
					t.Errorf("a tool call with the prompt's state: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if text, isErr := resultText(t, tool); !isErr || !strings.Contains(text, "no longer pending") {
				t.Errorf("a tool call with the prompt's state: %q (error %v)", text, isErr)
			}

			resp, err = c.GetPrompt(t.Context(), &providerv1.GetPromptRequest{Name: "brief", Context: retry(elicitingClient("s1"))})
			if err != nil {
				t.Fatal(err)
			}
			var messages []struct {
				Content struct {
					Text string `json:"text"`
				} `json:"content"`
			}
			if err := json.Unmarshal(resp.GetMessages(), &messages); err != nil || resp.GetInputRequired() != nil || resp.GetDescription() != "briefed" ||
				len(messages) != 1 || messages[0].Content.Text != "Context: the quarterly report (accept)" {
				t.Errorf("prompt %v (%v)", resp, err)
			}

			// A paused prompt's state is good for one retry; a 2026-07-28 upstream's is
			// the upstream's to judge (this one renders the prompt again).
			_, err = c.GetPrompt(t.Context(), &providerv1.GetPromptRequest{Name: "brief", Context: retry(elicitingClient("s1"))})
			if version == "" && err != nil {
				t.Errorf("second retry: %v", err)
			}
			if st := status.Convert(err); version != "" && (st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "no longer pending")) {
				t.Errorf("second retry: %v", err)
			}
			eventually.True(t, 5*time.Second, func() bool { return pendingCalls(u) == 0 }, "the finished prompt is forgotten")
		})
	}
}

// A prompt whose client did not declare elicitation is not asked for it: the upstream
// gets an error at once, the prompt fails, and nothing stays pending.
func TestRelayPromptRefusesWhatTheClientCannotAnswer(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			u, c := relayFixture(t, version, 0)
			_, err := c.GetPrompt(t.Context(), &providerv1.GetPromptRequest{Name: "brief", Context: samplingClient("s1")})
			if err == nil {
				t.Fatal("the prompt succeeded without the client's answer")
			}
			eventually.True(t, 5*time.Second, func() bool { return pendingCalls(u) == 0 }, "nothing stays pending")
		})
	}
}

// An upstream's -32021 (MissingRequiredClientCapability: the caller's capabilities,
// passed in the call's _meta, lack one the tool needs) reaches the session as a status
// carrying the JSON-RPC code, message and data (kit/rpcstatus), not as an internal
// error; with the capability declared the tool runs.
func TestRelayPassesMissingClientCapability(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run(cmpOr(version, statelessVersion), func(t *testing.T) {
			_, c := relayFixture(t, version, 0)
			_, err := callTool(t, c, "needs_sampling", `{}`, elicitingClient("s1"))
			code, msg, data, ok := rpcstatus.JSONRPC(err)
			if status.Code(err) != codes.FailedPrecondition || !ok || code != mcpproto.CodeMissingClientCapability ||
				msg != "sampling capability required" || string(data) != `{"requiredCapabilities":{"sampling":{}}}` {
				t.Errorf("got %v: code %d, message %q, data %s (carried %v)", err, code, msg, data, ok)
			}
			resp, err := callTool(t, c, "needs_sampling", `{}`, samplingClient("s1"))
			if err != nil {
				t.Fatal(err)
			}
			if text, isErr := resultText(t, resp); isErr || text != "sampling declared" {
				t.Errorf("with sampling declared: %q (error %v)", text, isErr)
			}
		})
	}
}

// inputResponsesUpFront is a first call (no request state) of an elicitation-capable
// client that sends its answers before anyone asked: one to the "enums" tool's "pick"
// and one nobody asks for (2026-07-28 basic/patterns/mrtr: a server ignores what it does
// not recognise or need).
func inputResponsesUpFront(session string, pick string) *mcpv1.RequestContext {
	rc := elicitingClient(session)
	rc.InputResponses = map[string][]byte{
		"pick":    []byte(pick),
		"unasked": []byte(`{"action":"accept","content":{"foo":"bar"}}`),
	}
	return rc
}

// A 2026-07-28 caller's inputResponses sent with its first call reach a 2026-07-28
// upstream with the call, unasked ones too: the tool finds its answer and finishes
// without asking. One that is no input response at all is -32602 (InvalidArgument). A
// 2025-11-25 upstream has no inputResponses: it asks on its session, and the client
// answers that request as usual.
func TestRelayPassesInputResponsesSentUpFront(t *testing.T) {
	const pick = `{"action":"accept","content":{"titledMulti":["v2"]}}`
	t.Run(statelessVersion, func(t *testing.T) {
		u, c := relayFixture(t, "", 0)
		resp, err := callTool(t, c, "enums", `{}`, inputResponsesUpFront("s1", pick))
		if err != nil {
			t.Fatal(err)
		}
		if text, isErr := resultText(t, resp); isErr || text != `accept {"titledMulti":["v2"]}` {
			t.Errorf("result %q (error %v)", text, isErr)
		}

		_, err = callTool(t, c, "enums", `{}`, inputResponsesUpFront("s1", `{"neither":"action, role nor roots"}`))
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), `the client's answer to "pick"`) {
			t.Errorf("an answer that is no input response: %v", err)
		}
		eventually.True(t, 5*time.Second, func() bool { return pendingCalls(u) == 0 }, "nothing stays pending")
	})
	t.Run("2025-11-25", func(t *testing.T) {
		u, c := relayFixture(t, "2025-11-25", 0)
		resp, err := callTool(t, c, "enums", `{}`, inputResponsesUpFront("s1", pick))
		if err != nil {
			t.Fatal(err)
		}
		ir := resp.GetInputRequired()
		if ir == nil || len(ir.GetInputRequests()) != 1 || ir.GetInputRequests()[sessionInputKey] == nil {
			t.Fatalf("want the upstream's session request as input_required, got %v", resp)
		}
		retry := elicitingClient("s1")
		// (Declined: the upstream's SDK checks an accepted answer against the enums schema.)
		retry.InputResponses = map[string][]byte{sessionInputKey: []byte(`{"action":"decline"}`)}
		retry.RequestState = ir.GetRequestState()
		resp, err = callTool(t, c, "enums", `{}`, retry)
		if err != nil {
			t.Fatal(err)
		}
		if text, isErr := resultText(t, resp); isErr || text != "decline null" {
			t.Errorf("result %q (error %v)", text, isErr)
		}
		eventually.True(t, 5*time.Second, func() bool { return pendingCalls(u) == 0 }, "the finished call is forgotten")
	})
}
