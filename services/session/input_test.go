package session

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

const (
	addInputSchema = `{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`
	sumSchema      = `{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}`
	// The everything provider's json_schema_2020_12_tool input schema: the 2020-12
	// vocabulary the conformance suite checks ($anchor, allOf/anyOf, if/then/else).
	jsonSchema202012 = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
		`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},` +
		`"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},` +
		`"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],` +
		`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},` +
		`"then":{"required":["phone"]},"else":{"required":["email"]},"additionalProperties":false}`
	// A tool that mirrors region and priority into Mcp-Param-* headers (SEP-2243).
	headersSchema = `{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"},` +
		`"priority":{"type":"integer","x-mcp-header":"Priority"},"query":{"type":"string"}},"required":["region","query"]}`
)

// inputFixture routes tools with schemas and tools that ask for client input to the
// test provider.
func inputFixture(providerAddr, _ string) *registryv1.WatchCatalogueResponse {
	tool := func(exposed, own, input, output string) *registryv1.RoutedTool {
		t := &mcpv1.Tool{Name: own, InputSchema: []byte(input)}
		if output != "" {
			t.OutputSchema = []byte(output)
		}
		return &registryv1.RoutedTool{Name: exposed, Provider: "p", Tool: t}
	}
	return &registryv1.WatchCatalogueResponse{
		Revision:  7,
		Providers: []*registryv1.Provider{{Name: "p", Address: providerAddr}},
		Tools: []*registryv1.RoutedTool{
			tool("add", "p_echo", addInputSchema, ""),
			tool("json_schema_2020_12_tool", "p_echo", jsonSchema202012, ""),
			tool("headers", "p_echo", headersSchema, ""),
			tool("broken", "p_echo", `{"type":"object","properties":{"a":{"$ref":"#/$defs/nowhere"}}}`, ""),
			tool("struct", "p_struct", `{"type":"object"}`, sumSchema),
			tool("ask", "p_ask", `{"type":"object"}`, ""),
			tool("ask2", "p_ask", `{"type":"object"}`, ""),
			tool("fail_with", "p_fail_with", `{"type":"object"}`, ""),
		},
		Resources: []*registryv1.RoutedResource{{Provider: "p", Resource: &mcpv1.Resource{Uri: "mem://a", Name: "a"}}},
		Prompts:   []*registryv1.RoutedPrompt{{Name: "askp", Provider: "p", Prompt: &mcpv1.Prompt{Name: "p_ask_prompt"}}},
	}
}

// statelessCall is a 2026-07-28 request with the given client capabilities and
// clientInfo name; extra params follow the _meta.
func statelessCall(method, caps, client, params string) *sessionv1.HandleRequest {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps +
		`,"io.modelcontextprotocol/clientInfo":{"name":"` + client + `","version":"1"}}`
	return stateless(method, "{"+meta+","+strings.TrimPrefix(params, "{"))
}

func TestToolArgumentValidation(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	// From 2025-11-25 on an input validation error is a tool result with isError
	// (SEP-1303); before, it is the -32602 protocol error. The message is the same.
	sessions := map[string]*sessionv1.Session{"2025-11-25": h.initialize(t, "2025-11-25"), "2025-06-18": h.initialize(t, "2025-06-18")}
	tests := []struct {
		name, tool, args string
		wantMsg          string // "" when the call must reach the provider
	}{
		{"conforming", "add", `{"a":1,"b":2}`, ""},
		{"wrong type", "add", `{"a":"1","b":2}`, "invalid arguments for tool add: /a: got string, want number (keyword type)"},
		{"missing required", "add", `{"a":1}`, "invalid arguments for tool add: (root): missing property 'b' (keyword required)"},
		{"2020-12 fixture with $ref", "json_schema_2020_12_tool", `{"name":"Ada","address":{"street":"1 Main","city":"Town"},"email":"a@b"}`, ""},
		{"2020-12 fixture, bad $ref target", "json_schema_2020_12_tool", `{"address":{"city":5},"email":"a@b"}`, "invalid arguments for tool json_schema_2020_12_tool: /address/city: got number, want string"},
		{"2020-12 fixture, additionalProperties", "json_schema_2020_12_tool", `{"extra":1,"email":"a@b"}`, "additional properties 'extra' not allowed (keyword additionalProperties)"},
		{"2020-12 fixture, if/then", "json_schema_2020_12_tool", `{"contactMethod":"phone","email":"a@b"}`, "missing property 'phone'"},
		{"2020-12 fixture, allOf/anyOf", "json_schema_2020_12_tool", `{"name":"Ada","contactMethod":"email"}`, "json_schema_2020_12_tool"},
		{"schema that does not compile: not validated", "broken", `{"a":"anything"}`, ""},
	}
	for _, tt := range tests {
		for _, gen := range []string{"2026-07-28", "2025-11-25", "2025-06-18"} {
			t.Run(tt.name+"/"+gen, func(t *testing.T) {
				params := `{"name":"` + tt.tool + `","arguments":` + tt.args + `}`
				req := statelessCall("tools/call", `{}`, "c", params)
				if sess, ok := sessions[gen]; ok {
					req = stateful(sess, "tools/call", params)
				}
				if tt.wantMsg == "" {
					ev := h.mustResult(t, req)
					if !strings.Contains(string(ev.rawResult), "text") {
						t.Errorf("result %s", ev.rawResult)
					}
					return
				}
				h.provider.mu.Lock()
				h.provider.lastCall = nil
				h.provider.mu.Unlock()
				if gen == "2025-06-18" {
					e := h.mustError(t, req, -32602)
					if !strings.Contains(e.GetMessage(), tt.wantMsg) {
						t.Errorf("message %q, want %q", e.GetMessage(), tt.wantMsg)
					}
				} else {
					var res struct {
						Content []struct{ Type, Text string } `json:"content"`
						IsError bool                          `json:"isError"`
					}
					if err := json.Unmarshal(h.mustResult(t, req).rawResult, &res); err != nil {
						t.Fatal(err)
					}
					if !res.IsError || len(res.Content) != 1 || res.Content[0].Type != "text" || !strings.Contains(res.Content[0].Text, tt.wantMsg) {
						t.Errorf("result %+v, want isError with a text naming %q", res, tt.wantMsg)
					}
				}
				h.provider.mu.Lock()
				defer h.provider.mu.Unlock()
				if h.provider.lastCall != nil {
					t.Error("the provider was called with invalid arguments")
				}
			})
		}
	}
}

func TestStructuredContentValidation(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	tests := []struct {
		name, args string
		wantCode   int32 // 0: a result
	}{
		{"conforming", `{"out":{"sum":3}}`, 0},
		{"not matching the outputSchema", `{"out":{"sum":"3"}}`, -32603},
		{"missing a required member", `{"out":{}}`, -32603},
		{"no structured content", `{}`, 0},
		{"tool errors are not checked", `{"out":{"sum":"3"},"isError":true}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := statelessCall("tools/call", `{}`, "c", `{"name":"struct","arguments":`+tt.args+`}`)
			if tt.wantCode == 0 {
				h.mustResult(t, req)
				return
			}
			e := h.mustError(t, req, tt.wantCode)
			if e.GetMessage() != "tool struct returned structured content that does not match its outputSchema" {
				t.Errorf("message %q", e.GetMessage())
			}
		})
	}
}

const samplingRequest = `{"method":"sampling/createMessage","params":{"messages":[{"role":"user","content":{"type":"text","text":"2+2?"}}],"maxTokens":10}}`

// inputRequiredResult is an InputRequiredResult as a test reads it.
type inputRequiredResult struct {
	ResultType    string                     `json:"resultType"`
	InputRequests map[string]json.RawMessage `json:"inputRequests"`
	RequestState  string                     `json:"requestState"`
}

func askFirst(t *testing.T, h *harness, req *sessionv1.HandleRequest) inputRequiredResult {
	t.Helper()
	ev := h.mustResult(t, req)
	var ir inputRequiredResult
	if err := json.Unmarshal(ev.rawResult, &ir); err != nil || ir.ResultType != "input_required" || ir.RequestState == "" {
		t.Fatalf("want an InputRequiredResult, got %s", ev.rawResult)
	}
	return ir
}

func TestInputRequiredRoundTrip(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	caps := `{"sampling":{},"elicitation":{}}`
	elicit := `{"method":"elicitation/create","params":{"mode":"form","message":"who?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}}`

	t.Run("tools/call", func(t *testing.T) {
		ir := askFirst(t, h, statelessCall("tools/call", caps, "c", `{"name":"ask","arguments":{"requests":{"s":`+samplingRequest+`,"e":`+elicit+`}}}`))
		if len(ir.InputRequests) != 2 || !strings.Contains(string(ir.InputRequests["s"]), "sampling/createMessage") {
			t.Fatalf("inputRequests %v", ir.InputRequests)
		}
		if strings.Contains(ir.RequestState, "provider-state") {
			t.Error("requestState is not wrapped")
		}
		retry := statelessCall("tools/call", caps, "c", `{"name":"ask","arguments":{"requests":{}},"inputResponses":{"s":{"role":"assistant","content":{"type":"text","text":"4"},"model":"m"},"e":{"action":"accept","content":{"name":"Ada"}}},"requestState":"`+ir.RequestState+`"}`)
		ev := h.mustResult(t, retry)
		text := string(ev.rawResult)
		for _, want := range []string{`"resultType":"complete"`, `state=provider-state-1`, `e={\"action\":\"accept\"`, `s={\"role\":\"assistant\"`} {
			if !strings.Contains(text, want) {
				t.Errorf("retry result %s lacks %s", text, want)
			}
		}
	})

	t.Run("prompts/get", func(t *testing.T) {
		ir := askFirst(t, h, statelessCall("prompts/get", caps, "c", `{"name":"askp","arguments":{"requests":"{\"s\":`+strings.ReplaceAll(samplingRequest, `"`, `\"`)+`}"}}`))
		retry := statelessCall("prompts/get", caps, "c", `{"name":"askp","inputResponses":{"s":{"role":"assistant","content":{"type":"text","text":"4"},"model":"m"}},"requestState":"`+ir.RequestState+`"}`)
		ev := h.mustResult(t, retry)
		if !strings.Contains(string(ev.rawResult), "state=provider-state-1") {
			t.Errorf("retry result %s", ev.rawResult)
		}
	})

	t.Run("a retry without requestState is a new request", func(t *testing.T) {
		ev := h.mustResult(t, statelessCall("tools/call", caps, "c", `{"name":"ask","arguments":{},"inputResponses":{"s":{"action":"decline"}}}`))
		if !strings.Contains(string(ev.rawResult), `"state= s=`) {
			t.Errorf("result %s: want the answers without provider state", ev.rawResult)
		}
	})
}

func TestInputRequiredErrors(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	caps := `{"sampling":{}}`
	askSampling := `{"name":"ask","arguments":{"requests":{"s":` + samplingRequest + `}}}`
	token := askFirst(t, h, statelessCall("tools/call", caps, "c", askSampling)).RequestState
	forged := []byte(token)
	forged[len(forged)-3] ^= 1
	retry := func(tool, client, state string) *sessionv1.HandleRequest {
		return statelessCall("tools/call", caps, client, `{"name":"`+tool+`","arguments":{},"inputResponses":{"s":{"role":"assistant","content":{"type":"text","text":"4"},"model":"m"}},"requestState":"`+state+`"}`)
	}
	sess := h.initialize(t, "2025-11-25")

	tests := []struct {
		name    string
		req     *sessionv1.HandleRequest
		code    int32
		wantMsg string
		data    string
	}{
		{"forged requestState", retry("ask", "c", string(forged)), -32602, "requestState is not valid", ""},
		{"garbage requestState", retry("ask", "c", "not-a-token"), -32602, "requestState is not valid", ""},
		{"requestState of another tool", retry("ask2", "c", token), -32602, "issued for another request", ""},
		{"requestState of another client", retry("ask", "other", token), -32602, "issued to another client", ""},
		{"requestState not a string", statelessCall("tools/call", caps, "c", `{"name":"ask","requestState":5}`), -32602, "params.requestState must be a string", ""},
		{"inputResponses not results", statelessCall("tools/call", caps, "c", `{"name":"ask","inputResponses":{"s":1}}`), -32602, `params.inputResponses["s"] must be a result object`, ""},
		{"sampling not declared", statelessCall("tools/call", `{"elicitation":{}}`, "c", askSampling), -32021, "Server requires the sampling client capability", `{"requiredCapabilities":{"sampling":{}}}`},
		{"url elicitation not declared", statelessCall("tools/call", `{"elicitation":{"form":{}}}`, "c",
			`{"name":"ask","arguments":{"requests":{"u":{"method":"elicitation/create","params":{"mode":"url","message":"m","url":"https://example.com","elicitationId":"1"}},"r":{"method":"roots/list","params":{}}}}}`),
			-32021, "Server requires the elicitation and roots client capability", `{"requiredCapabilities":{"elicitation":{"url":{}},"roots":{}}}`},
		{"a method MRTR does not allow", statelessCall("tools/call", caps, "c", `{"name":"ask","arguments":{"requests":{"x":{"method":"tools/call","params":{}}}}}`), -32603, "tool ask returned an invalid result", ""},
		{"stateful session without the capability", stateful(sess, "tools/call", askSampling), -32021, "Server requires the sampling client capability", `{"requiredCapabilities":{"sampling":{}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := h.mustError(t, tt.req, tt.code)
			if !strings.Contains(e.GetMessage(), tt.wantMsg) {
				t.Errorf("message %q, want %q", e.GetMessage(), tt.wantMsg)
			}
			if tt.data != "" && string(e.GetData()) != tt.data {
				t.Errorf("data %s, want %s", e.GetData(), tt.data)
			}
		})
	}

	t.Run("expired requestState", func(t *testing.T) {
		short := newHarnessWith(t, nil, inputFixture, func(c *Config) { c.RequestStateTTL = time.Nanosecond })
		token := askFirst(t, short, statelessCall("tools/call", caps, "c", askSampling)).RequestState
		e := short.mustError(t, retry("ask", "c", token), -32602)
		if !strings.Contains(e.GetMessage(), "requestState has expired") {
			t.Errorf("message %q", e.GetMessage())
		}
	})

	t.Run("a replica with the same key accepts the retry", func(t *testing.T) {
		key := func(c *Config) { c.RequestStateKey = strings.Repeat("k", 32) }
		a, b := newHarnessWith(t, nil, inputFixture, key), newHarnessWith(t, nil, inputFixture, key)
		token := askFirst(t, a, statelessCall("tools/call", caps, "c", askSampling)).RequestState
		b.mustResult(t, retry("ask", "c", token))
		other := newHarnessWith(t, nil, inputFixture, func(c *Config) { c.RequestStateKey = strings.Repeat("x", 32) })
		other.mustError(t, retry("ask", "c", token), -32602)
	})
}

// TestInputSchemaReachesClientUnchanged: whatever keywords a provider's inputSchema
// uses (here the 2020-12 vocabulary: $anchor in $defs, allOf/anyOf, if/then/else,
// x-mcp-header), tools/list hands it to clients of both generations unchanged.
func TestInputSchemaReachesClientUnchanged(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	sess := h.initialize(t, "2025-11-25")
	for _, page := range []func(cursor string) *sessionv1.HandleRequest{
		func(cursor string) *sessionv1.HandleRequest {
			return stateless("tools/list", `{"cursor":`+cursor+`,`+statelessMeta+`}`)
		},
		func(cursor string) *sessionv1.HandleRequest {
			return stateful(sess, "tools/list", `{"cursor":`+cursor+`}`)
		},
	} {
		type tool struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		var tools []tool
		for cursor := "null"; cursor != ""; {
			var list struct {
				Tools      []tool `json:"tools"`
				NextCursor string `json:"nextCursor"`
			}
			if err := json.Unmarshal(h.mustResult(t, page(cursor)).rawResult, &list); err != nil {
				t.Fatal(err)
			}
			tools = append(tools, list.Tools...)
			cursor = ""
			if list.NextCursor != "" {
				cursor = `"` + list.NextCursor + `"`
			}
		}
		req := page("null")
		want := map[string]string{"json_schema_2020_12_tool": jsonSchema202012, "headers": headersSchema}
		for _, tool := range tools {
			if w, ok := want[tool.Name]; ok {
				var got, exp any
				_ = json.Unmarshal(tool.InputSchema, &got)
				_ = json.Unmarshal([]byte(w), &exp)
				if !reflect.DeepEqual(got, exp) {
					t.Errorf("%s (%s): inputSchema changed on the way:\n got %s\nwant %s", tool.Name, req.GetProtocolVersion(), tool.InputSchema, w)
				}
				delete(want, tool.Name)
			}
		}
		if len(want) > 0 {
			t.Errorf("not listed: %v", want)
		}
	}
}

// TestParamHeaders: a 2026-07-28 tools/call must carry Mcp-Param-* headers that match
// the arguments its tool annotates with x-mcp-header (SEP-2243), else -32020 before the
// provider is called; stateful requests have no such headers.
func TestParamHeaders(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	const args = `{"name":"headers","arguments":{"region":"Hello","priority":3,"query":"q"}}`
	for _, tt := range []struct {
		name    string
		headers map[string]string
		want    string // "" accepted
	}{
		{"plain", map[string]string{"region": "Hello", "priority": "3"}, ""},
		{"base64", map[string]string{"region": "=?base64?SGVsbG8=?=", "priority": "3"}, ""},
		{"missing", map[string]string{"priority": "3"}, "Mcp-Param-Region header is required"},
		{"mismatch", map[string]string{"region": "World", "priority": "3"}, "does not match body value 'Hello'"},
		{"bad padding", map[string]string{"region": "=?base64?SGVsbG8?=", "priority": "3"}, "invalid"},
		{"integer mismatch", map[string]string{"region": "Hello", "priority": "4"}, "Mcp-Param-Priority"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := statelessCall("tools/call", `{}`, "c", args)
			req.ParamHeaders = tt.headers
			if tt.want == "" {
				h.mustResult(t, req)
				return
			}
			h.provider.mu.Lock()
			h.provider.lastCall = nil
			h.provider.mu.Unlock()
			if e := h.mustError(t, req, -32020); !strings.Contains(e.GetMessage(), tt.want) {
				t.Errorf("message %q, want %q", e.GetMessage(), tt.want)
			}
			h.provider.mu.Lock()
			defer h.provider.mu.Unlock()
			if h.provider.lastCall != nil {
				t.Error("the provider was called despite the mismatch")
			}
		})
	}
	sess := h.initialize(t, "2025-11-25")
	h.mustResult(t, stateful(sess, "tools/call", args))
}

// A provider's failure that carries -32021 (kit/rpcstatus: a federated upstream found
// that the caller did not declare a capability) reaches the client as -32021 with the
// provider's message and data, for clients of both generations, as the session's own
// check answers; a provider cannot have its failure reach the client with other codes.
func TestProviderMissingCapabilityReachesTheClient(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	sess := h.initialize(t, "2025-11-25")
	for _, req := range []*sessionv1.HandleRequest{
		statelessCall("tools/call", `{}`, "c", `{"name":"fail_with","arguments":{"code":-32021}}`),
		stateful(sess, "tools/call", `{"name":"fail_with","arguments":{"code":-32021}}`),
	} {
		e := h.mustError(t, req, -32021)
		if e.GetMessage() != "sampling capability required" || string(e.GetData()) != `{"requiredCapabilities":{"sampling":{}}}` {
			t.Errorf("%s: message %q, data %s", req.GetProtocolVersion(), e.GetMessage(), e.GetData())
		}
	}
	for _, code := range []string{"-32601", "-32602", "-32000"} {
		e := h.mustError(t, statelessCall("tools/call", `{}`, "c", `{"name":"fail_with","arguments":{"code":`+code+`}}`), -32603)
		if !strings.Contains(e.GetMessage(), "provider p returned an error") || len(e.GetData()) > 0 {
			t.Errorf("code %s: %q, data %s", code, e.GetMessage(), e.GetData())
		}
	}
}
