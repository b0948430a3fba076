package everything

import (
	"encoding/json"
	"strings"
	"testing"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

type inputRequest struct {
	Method string `json:"method"`
	Params struct {
		Messages []struct {
			Role    string `json:"role"`
			Content struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"messages"`
		MaxTokens       int    `json:"maxTokens"`
		Message         string `json:"message"`
		RequestedSchema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"requestedSchema"`
	} `json:"params"`
}

func withCaps(caps string) *mcpv1.RequestContext {
	return &mcpv1.RequestContext{Client: &mcpv1.ClientIdentity{Capabilities: []byte(caps)}}
}

func TestInputRequiredRoundTrip(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		name, tool, args, caps, key, method string
		checkRequest                        func(t *testing.T, r inputRequest)
		answer                              string
		wantText                            string
	}{
		{
			name: "sampling", tool: "test_sampling", args: `{"prompt":"What is 2+2?"}`, caps: `{"sampling":{}}`,
			key: "sampling", method: "sampling/createMessage",
			checkRequest: func(t *testing.T, r inputRequest) {
				if len(r.Params.Messages) != 1 || r.Params.Messages[0].Role != "user" ||
					r.Params.Messages[0].Content.Text != "What is 2+2?" || r.Params.MaxTokens != 100 {
					t.Errorf("sampling params %+v", r.Params)
				}
			},
			answer:   `{"role":"assistant","content":{"type":"text","text":"4"},"model":"test-model","stopReason":"endTurn"}`,
			wantText: "LLM response: 4",
		},
		{
			name: "sampling with content array", tool: "sample", args: `{"prompt":"p"}`, caps: `{"sampling":{"tools":{}}}`,
			key: "sampling", method: "sampling/createMessage",
			answer:   `{"role":"assistant","content":[{"type":"text","text":"from array"}],"model":"m"}`,
			wantText: "LLM response: from array",
		},
		{
			name: "elicitation", tool: "test_elicitation", args: `{"message":"Who are you?"}`, caps: `{"elicitation":{}}`,
			key: "elicitation", method: "elicitation/create",
			checkRequest: func(t *testing.T, r inputRequest) {
				if r.Params.Message != "Who are you?" || r.Params.RequestedSchema.Properties["username"] == nil ||
					r.Params.RequestedSchema.Properties["email"] == nil {
					t.Errorf("elicitation params %+v", r.Params)
				}
			},
			answer:   `{"action":"accept","content":{"username":"testuser","email":"test@example.com"}}`,
			wantText: `User response: action=accept, content={"username":"testuser","email":"test@example.com"}`,
		},
		{
			name: "elicitation declined", tool: "elicit", args: `{"message":"m"}`, caps: `{"elicitation":{"form":{}}}`,
			key: "elicitation", method: "elicitation/create",
			answer: `{"action":"decline"}`, wantText: "User response: action=decline, content={}",
		},
		{
			name: "sep1034 defaults", tool: "test_elicitation_sep1034_defaults", args: `{}`, caps: `{"elicitation":{}}`,
			key: "elicitation", method: "elicitation/create",
			checkRequest: func(t *testing.T, r inputRequest) {
				want := map[string]string{"name": `"John Doe"`, "age": `30`, "score": `95.5`, "status": `"active"`, "verified": `true`}
				for field, def := range want {
					var prop struct {
						Default json.RawMessage `json:"default"`
					}
					if err := json.Unmarshal(r.Params.RequestedSchema.Properties[field], &prop); err != nil || string(prop.Default) != def {
						t.Errorf("%s: default %s, want %s", field, prop.Default, def)
					}
				}
			},
			answer:   `{"action":"accept","content":{"name":"Jane Smith","age":25}}`,
			wantText: `Elicitation completed: action=accept, content={"name":"Jane Smith","age":25}`,
		},
		{
			name: "sep1330 enums", tool: "test_elicitation_sep1330_enums", args: `{}`, caps: `{"elicitation":{}}`,
			key: "elicitation", method: "elicitation/create",
			checkRequest: func(t *testing.T, r inputRequest) {
				for _, field := range []string{"untitledSingle", "titledSingle", "legacyEnum", "untitledMulti", "titledMulti"} {
					if r.Params.RequestedSchema.Properties[field] == nil {
						t.Errorf("missing %s", field)
					}
				}
			},
			answer:   `{"action":"cancel"}`,
			wantText: "Elicitation completed: action=cancel, content={}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// First round: the tool asks for input.
			events, err := callTool(t, c, &providerv1.CallToolRequest{Name: tt.tool, Arguments: []byte(tt.args), Context: withCaps(tt.caps)})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].GetInputRequired() == nil {
				t.Fatalf("want one input_required event, got %v", events)
			}
			ir := events[0].GetInputRequired()
			var req inputRequest
			if err := json.Unmarshal(ir.GetInputRequests()[tt.key], &req); err != nil {
				t.Fatalf("input request %q: %v: %s", tt.key, err, ir.GetInputRequests()[tt.key])
			}
			if req.Method != tt.method {
				t.Errorf("method %q, want %q", req.Method, tt.method)
			}
			if tt.checkRequest != nil {
				tt.checkRequest(t, req)
			}
			if len(ir.GetRequestState()) == 0 {
				t.Error("want a request state")
			}
			// Second round: the answer arrives with the state.
			rc := withCaps(tt.caps)
			rc.InputResponses = map[string][]byte{tt.key: []byte(tt.answer)}
			rc.RequestState = ir.GetRequestState()
			events, err = callTool(t, c, &providerv1.CallToolRequest{Name: tt.tool, Arguments: []byte(tt.args), Context: rc})
			if err != nil {
				t.Fatal(err)
			}
			res := lastResult(t, events)
			b := decodeBlocks(t, res.GetContent())
			if res.GetIsError() || b[0].Text != tt.wantText {
				t.Errorf("got %v %q, want %q", res.GetIsError(), b[0].Text, tt.wantText)
			}
		})
	}
}

func TestInputRequiredErrors(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		name, tool, args string
		rc               *mcpv1.RequestContext
		want             string
	}{
		{"sampling without capability", "test_sampling", `{"prompt":"p"}`, withCaps(`{"elicitation":{}}`), "did not declare the sampling capability"},
		{"sampling without client", "test_sampling", `{"prompt":"p"}`, nil, "did not declare the sampling capability"},
		{"elicitation without capability", "test_elicitation", `{"message":"m"}`, withCaps(`{"sampling":{}}`), "did not declare the elicitation capability"},
		{"unreadable sampling answer", "test_sampling", `{"prompt":"p"}`,
			&mcpv1.RequestContext{InputResponses: map[string][]byte{"sampling": []byte(`{"content":{"type":"image"}}`)}}, "could not be read"},
		{"unreadable elicitation answer", "test_elicitation", `{"message":"m"}`,
			&mcpv1.RequestContext{InputResponses: map[string][]byte{"elicitation": []byte(`[]`)}}, "could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := callTool(t, c, &providerv1.CallToolRequest{Name: tt.tool, Arguments: []byte(tt.args), Context: tt.rc})
			if err != nil {
				t.Fatal(err)
			}
			res := lastResult(t, events)
			b := decodeBlocks(t, res.GetContent())
			if !res.GetIsError() || !strings.Contains(b[0].Text, tt.want) {
				t.Errorf("got %v %q, want is_error containing %q", res.GetIsError(), b[0].Text, tt.want)
			}
		})
	}
}
