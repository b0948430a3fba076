package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// statelessRequest is a 2026-07-28 tools/call with the given client capabilities and
// extra params after name.
func statelessRequest(caps, tool, params string) string {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"` + stateless + `","io.modelcontextprotocol/clientInfo":{"name":"e2e","version":"1"},"io.modelcontextprotocol/clientCapabilities":` + caps + `}`
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{%s,"name":%q,%s}`, requestIDs.Add(1), meta, tool, strings.TrimPrefix(params, "{"))
}

func statelessHeaders(tool string) map[string]string {
	return map[string]string{"MCP-Protocol-Version": stateless, "Mcp-Method": "tools/call", "Mcp-Name": tool}
}

// TestMultiRoundTripRawHTTP drives the 2026-07-28 multi round-trip pattern byte by
// byte: input_required with a signed requestState, the retry with inputResponses,
// refused tokens, a missing client capability and argument validation.
func TestMultiRoundTripRawHTTP(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	c := rec.Client()
	post := func(t *testing.T, caps, tool, params string) rpcResponse {
		t.Helper()
		var out rpcResponse
		if err := decodeJSON(do(t, c, http.MethodPost, m.base+"/mcp", statelessRequest(caps, tool, params), statelessHeaders(tool)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// first asks a tool and returns its InputRequiredResult.
	first := func(t *testing.T, caps, tool, args string) (map[string]json.RawMessage, string) {
		t.Helper()
		out := post(t, caps, tool, `{"arguments":`+args+`}`)
		var res struct {
			ResultType    string                     `json:"resultType"`
			InputRequests map[string]json.RawMessage `json:"inputRequests"`
			RequestState  string                     `json:"requestState"`
		}
		if out.Error != nil || json.Unmarshal(out.Result, &res) != nil || res.ResultType != "input_required" || res.RequestState == "" || len(res.InputRequests) == 0 {
			t.Fatalf("want an input_required result, got %s / %+v", out.Result, out.Error)
		}
		return res.InputRequests, res.RequestState
	}
	text := func(t *testing.T, out rpcResponse) string {
		t.Helper()
		var res struct {
			ResultType string `json:"resultType"`
			Content    []struct{ Text string }
		}
		if out.Error != nil || json.Unmarshal(out.Result, &res) != nil || res.ResultType != "complete" || len(res.Content) == 0 {
			t.Fatalf("want a complete result, got %s / %+v", out.Result, out.Error)
		}
		return res.Content[0].Text
	}

	t.Run("sampling round trip", func(t *testing.T) {
		caps := `{"sampling":{}}`
		requests, state := first(t, caps, "sample", `{"prompt":"2+2?"}`)
		if !strings.Contains(string(requests["sampling"]), `"sampling/createMessage"`) {
			t.Fatalf("inputRequests %s", requests["sampling"])
		}
		out := post(t, caps, "sample", `{"arguments":{"prompt":"2+2?"},"inputResponses":{"sampling":{"role":"assistant","content":{"type":"text","text":"four"},"model":"m"}},"requestState":"`+state+`"}`)
		if got := text(t, out); got != "LLM response: four" {
			t.Errorf("retry text %q", got)
		}
	})

	t.Run("elicitation round trip", func(t *testing.T) {
		caps := `{"elicitation":{"form":{}}}`
		_, state := first(t, caps, "elicit", `{"message":"who?"}`)
		out := post(t, caps, "elicit", `{"arguments":{"message":"who?"},"inputResponses":{"elicitation":{"action":"accept","content":{"username":"ada","email":"ada@example.com"}}},"requestState":"`+state+`"}`)
		if got := text(t, out); !strings.Contains(got, "action=accept") || !strings.Contains(got, "ada") {
			t.Errorf("retry text %q", got)
		}
	})

	t.Run("refused requestState", func(t *testing.T) {
		caps := `{"sampling":{},"elicitation":{}}`
		_, state := first(t, caps, "sample", `{"prompt":"p"}`)
		answer := `"inputResponses":{"sampling":{"role":"assistant","content":{"type":"text","text":"x"},"model":"m"}}`
		forged := []byte(state)
		forged[len(forged)/2] ^= 1
		for name, tt := range map[string]struct{ tool, params, want string }{
			"forged":       {"sample", `{"arguments":{"prompt":"p"},` + answer + `,"requestState":"` + string(forged) + `"}`, "requestState is not valid"},
			"another tool": {"elicit", `{"arguments":{"message":"m"},` + answer + `,"requestState":"` + state + `"}`, "issued for another request"},
		} {
			t.Run(name, func(t *testing.T) {
				out := post(t, caps, tt.tool, tt.params)
				if out.Error == nil || out.Error.Code != -32602 || !strings.Contains(out.Error.Message, tt.want) {
					t.Errorf("want -32602 %q, got %+v", tt.want, out.Error)
				}
			})
		}
	})

	// Input validation errors are tool execution errors (a result with isError,
	// SEP-1303) that name the failing path, and the provider is not called.
	toolError := func(t *testing.T, out rpcResponse) string {
		t.Helper()
		var res struct {
			IsError bool                    `json:"isError"`
			Content []struct{ Text string } `json:"content"`
		}
		if out.Error != nil || json.Unmarshal(out.Result, &res) != nil || !res.IsError || len(res.Content) != 1 {
			t.Fatalf("want a tool result with isError, got %s / %+v", out.Result, out.Error)
		}
		return res.Content[0].Text
	}
	t.Run("invalid arguments", func(t *testing.T) {
		out := post(t, `{}`, "add", `{"arguments":{"a":"one","b":2}}`)
		if got := toolError(t, out); !strings.Contains(got, "invalid arguments for tool add: /a: got string, want number") {
			t.Errorf("want a tool error naming /a, got %q", got)
		}
		if got := text(t, post(t, `{}`, "json_schema_2020_12_tool", `{"arguments":{"name":"Ada","address":{"city":"Town"},"email":"ada@example.com"}}`)); got == "" {
			t.Error("empty result for conforming 2020-12 arguments")
		}
		out = post(t, `{}`, "json_schema_2020_12_tool", `{"arguments":{"address":{"city":5},"email":"ada@example.com"}}`)
		if got := toolError(t, out); !strings.Contains(got, "/address/city") {
			t.Errorf("want a tool error naming /address/city, got %q", got)
		}
		// if/then/else: a phone contact needs a phone number.
		out = post(t, `{}`, "json_schema_2020_12_tool", `{"arguments":{"contactMethod":"phone","email":"ada@example.com"}}`)
		if got := toolError(t, out); !strings.Contains(got, "phone") {
			t.Errorf("want a tool error naming the missing phone, got %q", got)
		}
	})
}

// TestMultiRoundTripSDKClient: the official Go SDK client at its default version
// (2026-07-28) fulfils input requests with its handlers and retries transparently.
func TestMultiRoundTripSDKClient(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "mrtr-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Model: "test-model", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
		},
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"username": "ada", "email": "ada@example.com"}}, nil
		},
	})
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: m.base + "/mcp", HTTPClient: rec.Client(), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer session.Close()
	if got := session.InitializeResult().ProtocolVersion; got != stateless {
		t.Fatalf("negotiated %q, want %q", got, stateless)
	}
	for _, tt := range []struct{ tool, args, want string }{
		{"sample", `{"prompt":"2+2?"}`, "LLM response: sampled answer"},
		{"elicit", `{"message":"who?"}`, "action=accept"},
	} {
		t.Run(tt.tool, func(t *testing.T) {
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: tt.tool, Arguments: json.RawMessage(tt.args)})
			if err != nil {
				t.Fatalf("call %s: %v", tt.tool, err)
			}
			if res.IsError || len(res.Content) == 0 {
				t.Fatalf("result %+v", res)
			}
			if tc, ok := res.Content[0].(*mcp.TextContent); !ok || !strings.Contains(tc.Text, tt.want) {
				t.Errorf("content %+v, want %q", res.Content[0], tt.want)
			}
		})
	}
}
