package mesh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

type questionArgs struct {
	Question string `json:"question" jsonschema:"what to ask"`
}

// newAskingUpstream serves the tools sample (asks the client's LLM the question and
// returns its answer) and confirm (asks the user to confirm the question, by
// elicitation), and the prompt brief (asks the user for its context, by elicitation). They ask the 2026-07-28 way, with an input_required result; for a
// client of an earlier generation the SDK sends the request on the session instead.
func newAskingUpstream(name string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1.0.0"}, nil)
	text := func(format string, args ...any) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}
	}
	mcp.AddTool(s, &mcp.Tool{Name: "sample", Description: "Asks the client's LLM."},
		func(_ context.Context, req *mcp.CallToolRequest, in questionArgs) (*mcp.CallToolResult, any, error) {
			answer, ok := req.Params.InputResponses["llm"].(*mcp.CreateMessageWithToolsResult)
			if !ok {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"llm": &mcp.CreateMessageParams{
					MaxTokens: 20, Messages: []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Question}}},
				}}}, nil, nil
			}
			if len(answer.Content) != 1 {
				return nil, nil, fmt.Errorf("%d content blocks", len(answer.Content))
			}
			said, _ := answer.Content[0].(*mcp.TextContent)
			if said == nil {
				return nil, nil, fmt.Errorf("content %T", answer.Content[0])
			}
			return text("%s asked %s, which said: %s", name, answer.Model, said.Text), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "confirm", Description: "Asks the user to confirm."},
		func(_ context.Context, req *mcp.CallToolRequest, in questionArgs) (*mcp.CallToolResult, any, error) {
			answer, ok := req.Params.InputResponses["ok"].(*mcp.ElicitResult)
			if !ok {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"ok": &mcp.ElicitParams{
					Message:         in.Question,
					RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{"sure": map[string]any{"type": "boolean"}}},
				}}}, nil, nil
			}
			return text("%s heard %s %v", name, answer.Action, answer.Content["sure"]), nil, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "brief", Description: "Asks the user for the context of the prompt."},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			answer, ok := req.Params.InputResponses["context"].(*mcp.ElicitResult)
			if !ok {
				return &mcp.GetPromptResult{InputRequests: mcp.InputRequestMap{"context": &mcp.ElicitParams{
					Message:         "Context for " + name + "?",
					RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{"context": map[string]any{"type": "string"}}},
				}}}, nil
			}
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				{Role: "user", Content: &mcp.TextContent{Text: fmt.Sprintf("%s was told: %v", name, answer.Content["context"])}},
			}}, nil
		})
	return s
}

// An upstream's sampling and elicitation requests reach the mesh's Go SDK client,
// whose answers reach the upstream: for clients of both generations (2025-11-25:
// server-to-client requests on the session's stream; 2026-07-28: an input_required
// round trip), and for upstreams of both generations (a stateful upstream session
// speaks 2025-11-25 and sends real requests; a stateless one speaks 2026-07-28 and
// answers input_required).
func TestFederationRelaysClientInput(t *testing.T) {
	stateful := serveUpstream(t, newAskingUpstream("stateful"))
	statelessServer := newAskingUpstream("stateless")
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return statelessServer },
		&mcp.StreamableHTTPOptions{Stateless: true}))
	t.Cleanup(srv.Close)
	base := federatedMesh(t,
		federation.Upstream{Name: "stateful", URL: stateful, Prefix: "sf"},
		federation.Upstream{Name: "stateless", URL: srv.URL, Prefix: "sl"},
	)
	waitForTools(t, meshSession(t, base, nil), "sf__confirm", "sf__sample", "sl__confirm", "sl__sample")

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			var mu sync.Mutex
			var asked []string
			client := mcp.NewClient(&mcp.Implementation{Name: "input-test", Version: "1.0.0"}, &mcp.ClientOptions{
				CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					q, _ := req.Params.Messages[0].Content.(*mcp.TextContent)
					if q == nil {
						return nil, fmt.Errorf("content %T", req.Params.Messages[0].Content)
					}
					mu.Lock()
					asked = append(asked, "sampling: "+q.Text)
					mu.Unlock()
					return &mcp.CreateMessageResult{Model: "test-llm", Role: "assistant", Content: &mcp.TextContent{Text: "yes to " + q.Text}}, nil
				},
				ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					mu.Lock()
					asked = append(asked, "elicitation: "+req.Params.Message)
					mu.Unlock()
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"sure": true}}, nil
				},
			})
			cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { _ = cs.Close() })
			for _, up := range []struct{ prefix, name string }{{"sf", "stateful"}, {"sl", "stateless"}} {
				question := fmt.Sprintf("%s via %s?", version, up.name)
				got, err := callText(t.Context(), cs, up.prefix+"__sample", questionArgs{Question: question})
				if want := up.name + " asked test-llm, which said: yes to " + question; err != nil || got != want {
					t.Errorf("%s__sample: %q, %v; want %q", up.prefix, got, err, want)
				}
				got, err = callText(t.Context(), cs, up.prefix+"__confirm", questionArgs{Question: "really " + question})
				if want := up.name + " heard accept true"; err != nil || got != want {
					t.Errorf("%s__confirm: %q, %v; want %q", up.prefix, got, err, want)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{
				"sampling: " + version + " via stateful?", "elicitation: really " + version + " via stateful?",
				"sampling: " + version + " via stateless?", "elicitation: really " + version + " via stateless?",
			}
			if fmt.Sprint(asked) != fmt.Sprint(want) {
				t.Errorf("the client was asked %q; want %q", asked, want)
			}
		})
	}
}

// A client that answers after the upstream's call timeout finds the relayed request
// gone: the upstream's request for input ended with an error when the call timed out,
// and the late answer gets a tool error that says what happened, not a hang.
func TestFederationLateClientInputGetsAToolError(t *testing.T) {
	gaveUp := make(chan error, 4)
	s := mcp.NewServer(&mcp.Implementation{Name: "patient", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "sample", Description: "Asks the client's LLM on the session."},
		func(ctx context.Context, req *mcp.CallToolRequest, in questionArgs) (*mcp.CallToolResult, any, error) {
			_, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{ //nolint:staticcheck // the stateful generation still samples
				MaxTokens: 20, Messages: []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Question}}},
			})
			gaveUp <- err
			return nil, nil, err
		})
	base := federatedMesh(t, federation.Upstream{Name: "patient", URL: serveUpstream(t, s), CallTimeout: 500 * time.Millisecond})
	waitForTools(t, meshSession(t, base, nil), "sample")

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			client := mcp.NewClient(&mcp.Implementation{Name: "late-test", Version: "1.0.0"}, &mcp.ClientOptions{
				CreateMessageHandler: func(ctx context.Context, _ *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					// Answer only once the upstream stopped waiting for the answer.
					select {
					case err := <-gaveUp:
						if err == nil {
							t.Error("the upstream got an answer before the client gave one")
						}
					case <-ctx.Done():
						return nil, ctx.Err()
					case <-time.After(15 * time.Second):
						t.Error("the upstream kept waiting past its call timeout")
					}
					return &mcp.CreateMessageResult{Model: "test-llm", Role: "assistant", Content: &mcp.TextContent{Text: "too late"}}, nil
				},
			})
			cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { _ = cs.Close() })
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "sample", Arguments: questionArgs{Question: "slow?"}})
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			text, _ := res.Content[0].(*mcp.TextContent)
			if !res.IsError || text == nil || !strings.Contains(text.Text, "no longer pending") || !strings.Contains(text.Text, "patient") {
				t.Errorf("late answer: error %v, %+v", res.IsError, res.Content[0])
			}
		})
	}
}

// An upstream's elicitation while it renders a prompt reaches the mesh's Go SDK
// client, whose answer reaches the upstream's prompt, as for a tool call: for clients
// of both generations (2025-11-25: an elicitation/create request on the session's
// stream; 2026-07-28: the prompt's input_required round trip) and upstreams of both
// generations (the stateful one's SDK sends elicitation/create on its session while
// serving prompts/get; the stateless one answers input_required).
func TestFederationRelaysClientInputForPrompts(t *testing.T) {
	stateful := serveUpstream(t, newAskingUpstream("stateful"))
	statelessServer := newAskingUpstream("stateless")
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return statelessServer },
		&mcp.StreamableHTTPOptions{Stateless: true}))
	t.Cleanup(srv.Close)
	base := federatedMesh(t,
		federation.Upstream{Name: "stateful", URL: stateful, Prefix: "sf"},
		federation.Upstream{Name: "stateless", URL: srv.URL, Prefix: "sl"},
	)
	waitForTools(t, meshSession(t, base, nil), "sf__confirm", "sf__sample", "sl__confirm", "sl__sample")

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			var mu sync.Mutex
			var asked []string
			client := mcp.NewClient(&mcp.Implementation{Name: "prompt-input-test", Version: "1.0.0"}, &mcp.ClientOptions{
				ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					mu.Lock()
					asked = append(asked, req.Params.Message)
					mu.Unlock()
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"context": "context from " + version}}, nil
				},
			})
			cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { _ = cs.Close() })
			for _, up := range []struct{ prefix, name string }{{"sf", "stateful"}, {"sl", "stateless"}} {
				res, err := cs.GetPrompt(t.Context(), &mcp.GetPromptParams{Name: up.prefix + "__brief"})
				if err != nil {
					t.Errorf("%s__brief: %v", up.prefix, err)
					continue
				}
				want := up.name + " was told: context from " + version
				if text, ok := promptText(res); !ok || text != want {
					t.Errorf("%s__brief: %+v; want the text %q", up.prefix, res.Messages, want)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"Context for stateful?", "Context for stateless?"}; fmt.Sprint(asked) != fmt.Sprint(want) {
				t.Errorf("the client was asked %q; want %q", asked, want)
			}
		})
	}
}

// promptText is the text of a prompt result's one text message.
func promptText(res *mcp.GetPromptResult) (string, bool) {
	if len(res.Messages) != 1 {
		return "", false
	}
	text, ok := res.Messages[0].Content.(*mcp.TextContent)
	if !ok {
		return "", false
	}
	return text.Text, true
}

// newCapabilityCheckingUpstream serves the tool needs_sampling, which fails with -32021
// (MissingRequiredClientCapability) when the request's capabilities lack sampling, as
// the Go SDK's conformance server does (SEP-2575).
func newCapabilityCheckingUpstream(name string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "needs_sampling", Description: "Needs the sampling capability."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			if caps := req.ClientCapabilities(); caps != nil && caps.Sampling != nil {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "sampling declared"}}}, nil, nil
			}
			return nil, nil, &jsonrpc.Error{Code: mcp.CodeMissingRequiredClientCapabilities, Message: "sampling capability required but not declared by client",
				Data: json.RawMessage(`{"requiredCapabilities":{"sampling":{}}}`)}
		})
	return s
}

// An upstream's -32021 reaches the client as the mesh's own -32021 does: a client
// that did not declare sampling calls a federated tool whose upstream needs it (a
// stateful and a stateless upstream) and the built-in provider's
// test_missing_capability (the session's own check) in the same mesh, and gets the
// same code and data.requiredCapabilities from each, through the Go SDK client of
// either generation, and HTTP 400 from each over a raw 2026-07-28 POST (the
// 2026-07-28 spec: MissingRequiredClientCapabilityError "MUST" be 400 on HTTP).
func TestFederationPassesMissingClientCapability(t *testing.T) {
	stateful := serveUpstream(t, newCapabilityCheckingUpstream("stateful"))
	statelessServer := newCapabilityCheckingUpstream("stateless")
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return statelessServer },
		&mcp.StreamableHTTPOptions{Stateless: true}))
	t.Cleanup(srv.Close)
	cfg := allInOne(t) // the built-in provider and the federation in one mesh
	cfg.Federation.Upstreams = []federation.Upstream{
		{Name: "stateful", URL: stateful, Prefix: "sf"},
		{Name: "stateless", URL: srv.URL, Prefix: "sl"},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base := startWith(t, cfg)
	tools := []string{"test_missing_capability", "sf__needs_sampling", "sl__needs_sampling"}
	probe := meshSession(t, base, nil)
	eventually.NoError(t, 15*time.Second, func() error {
		got, err := toolNames(t.Context(), probe)
		if err != nil {
			return err
		}
		for _, want := range tools {
			if !slices.Contains(got, want) {
				return fmt.Errorf("%s is not listed", want)
			}
		}
		return nil
	}, "the mesh lists %v", tools)

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			client := mcp.NewClient(&mcp.Implementation{Name: "capability-test", Version: "1.0.0"}, nil)
			cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { _ = cs.Close() })
			for _, tool := range tools {
				_, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
				var rpcErr *jsonrpc.Error
				if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeMissingRequiredClientCapabilities || !requiresSampling(rpcErr.Data) {
					t.Errorf("%s: %v; want -32021 requiring sampling", tool, err)
				}
			}
		})
	}
	for _, tool := range tools {
		body, headers := toolCallRequest(map[string]string{"MCP-Protocol-Version": "2026-07-28"}, tool, `{}`)
		resp, raw := post(t, base+"/mcp", body, headers)
		var out struct {
			Error *jsonrpc.Error `json:"error"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusBadRequest || out.Error == nil ||
			out.Error.Code != mcp.CodeMissingRequiredClientCapabilities || !requiresSampling(out.Error.Data) {
			t.Errorf("%s over a 2026-07-28 POST: HTTP %d %s; want 400 and -32021 requiring sampling", tool, resp.StatusCode, raw)
		}
	}
}

// requiresSampling reports whether the data of a -32021 names sampling as required.
func requiresSampling(data json.RawMessage) bool {
	var d struct {
		RequiredCapabilities map[string]json.RawMessage `json:"requiredCapabilities"`
	}
	return json.Unmarshal(data, &d) == nil && len(d.RequiredCapabilities) == 1 && string(d.RequiredCapabilities["sampling"]) == "{}"
}

// A 2026-07-28 client that sends inputResponses with its first tools/call or
// prompts/get (no requestState), before anyone asked, gets the result at once from a
// 2026-07-28 upstream: the mesh passes the answers on with the call, unasked ones too (the server
// ignores what it does not need). A 2025-11-25 upstream has no inputResponses: it asks
// on its session, and the client gets that request as input_required.
func TestFederationPassesInputResponsesSentUpFront(t *testing.T) {
	stateful := serveUpstream(t, newAskingUpstream("stateful"))
	statelessServer := newAskingUpstream("stateless")
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return statelessServer },
		&mcp.StreamableHTTPOptions{Stateless: true}))
	t.Cleanup(srv.Close)
	base := federatedMesh(t,
		federation.Upstream{Name: "stateful", URL: stateful, Prefix: "sf"},
		federation.Upstream{Name: "stateless", URL: srv.URL, Prefix: "sl"},
	)
	waitForTools(t, meshSession(t, base, nil), "sf__confirm", "sf__sample", "sl__confirm", "sl__sample")

	// send makes one first request (no requestState) with the answers up front, also one
	// nobody asks for.
	send := func(method, name, arguments string) map[string]json.RawMessage {
		t.Helper()
		body := `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":{"name":"` + name + `","arguments":` + arguments + `,` +
			`"inputResponses":{"ok":{"action":"accept","content":{"sure":true}},"context":{"action":"accept","content":{"context":"up front"}},` +
			`"unasked":{"action":"decline"}},` +
			`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"up-front","version":"1"},` +
			`"io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}}}`
		resp, raw := post(t, base+"/mcp", body, map[string]string{"Accept": "application/json, text/event-stream",
			"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": name})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d: %s", method, name, resp.StatusCode, raw)
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			for line := range strings.Lines(string(raw)) {
				if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok && strings.Contains(data, `"result"`) {
					raw = []byte(data)
				}
			}
		}
		var out struct {
			Result map[string]json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || out.Result == nil {
			t.Fatalf("%s %s: %s (%v)", method, name, raw, err)
		}
		return out.Result
	}

	call := func(tool string) map[string]json.RawMessage {
		t.Helper()
		return send("tools/call", tool, `{"question":"sure?"}`)
	}

	res := call("sl__confirm")
	var content []mcp.TextContent
	if err := json.Unmarshal(res["content"], &content); err != nil || len(content) != 1 || content[0].Text != "stateless heard accept true" ||
		res["resultType"] != nil && string(res["resultType"]) != `"complete"` {
		t.Errorf("2026-07-28 upstream: %v (%v)", res, err)
	}

	res = call("sf__confirm")
	var requests map[string]json.RawMessage
	if err := json.Unmarshal(res["inputRequests"], &requests); err != nil || string(res["resultType"]) != `"input_required"` ||
		len(requests) != 1 || requests["upstream"] == nil {
		t.Errorf("2025-11-25 upstream: want its session request as input_required, got %v (%v)", res, err)
	}

	res = send("prompts/get", "sl__brief", `{}`)
	var messages []struct {
		Content mcp.TextContent `json:"content"`
	}
	if err := json.Unmarshal(res["messages"], &messages); err != nil || len(messages) != 1 || messages[0].Content.Text != "stateless was told: up front" {
		t.Errorf("2026-07-28 upstream's prompt: %v (%v)", res, err)
	}
}
