package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/gateway"
)

func TestREST(t *testing.T) {
	h := newHarness(t, harnessOptions{configure: func(c *gateway.Config) { c.MaxBodyBytes = 1024 }})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		check      func(t *testing.T, body map[string]any)
	}{
		{name: "list tools", method: http.MethodGet, path: "/v1/tools", wantStatus: 200, check: func(t *testing.T, b map[string]any) {
			tools, _ := b["tools"].([]any)
			if len(tools) != 1 {
				t.Fatalf("tools = %v", b["tools"])
			}
			tool, _ := tools[0].(map[string]any)
			if tool["name"] != "echo" {
				t.Errorf("tool = %v", tool)
			}
			schema, ok := tool["inputSchema"].(map[string]any) // camelCase: UseProtoNames false
			if !ok || schema["type"] != "object" {
				t.Errorf("inputSchema = %v", tool["inputSchema"])
			}
			if _, ok := tool["outputSchema"]; ok {
				t.Errorf("unpopulated field emitted: %v", tool)
			}
		}},
		{name: "call tool", method: http.MethodPost, path: "/v1/tools/echo:call", body: `{"arguments":{"text":"hi"}}`, wantStatus: 200,
			check: func(t *testing.T, b map[string]any) {
				content, _ := b["content"].([]any)
				if len(content) != 1 {
					t.Fatalf("content = %v", b["content"])
				}
				if block, _ := content[0].(map[string]any); block["text"] != "hi" || block["type"] != "text" {
					t.Errorf("content = %v", content)
				}
				if sc, _ := b["structuredContent"].(map[string]any); sc["text"] != "hi" {
					t.Errorf("structuredContent = %v", b["structuredContent"])
				}
			}},
		{name: "call tool with array arguments", method: http.MethodPost, path: "/v1/tools/echo:call", body: `{"arguments":[1]}`, wantStatus: 400,
			check: func(t *testing.T, b map[string]any) {
				if b["message"] != "tools/call: params.arguments must be a JSON object" {
					t.Errorf("message = %v", b["message"])
				}
			}},
		{name: "unknown tool", method: http.MethodPost, path: "/v1/tools/nope:call", body: `{}`, wantStatus: 404,
			check: func(t *testing.T, b map[string]any) {
				if msg, _ := b["message"].(string); msg != "Unknown tool: nope" {
					t.Errorf("message = %v", b["message"])
				}
				details, _ := b["details"].([]any)
				if info, _ := details[0].(map[string]any); len(details) != 1 || info["domain"] != "mcpmesh" {
					t.Errorf("details = %v", b["details"])
				}
			}},
		{name: "public unavailable keeps its message", method: http.MethodPost, path: "/v1/tools/down:call", body: `{}`, wantStatus: 503,
			check: func(t *testing.T, b map[string]any) {
				if b["message"] != "tool down is unavailable: provider p did not answer" {
					t.Errorf("message = %v", b["message"])
				}
			}},
		{name: "masked transport unavailable", method: http.MethodPost, path: "/v1/tools/raw-unavailable:call", body: `{}`, wantStatus: 503,
			check: func(t *testing.T, b map[string]any) {
				if msg, _ := b["message"].(string); !strings.HasPrefix(msg, "service unavailable (id ") {
					t.Errorf("message = %q", msg)
				}
			}},
		{name: "body over the limit", method: http.MethodPost, path: "/v1/tools/echo:call", body: `{"arguments":{"text":"` + strings.Repeat("x", 2048) + `"}}`, wantStatus: 413,
			check: func(t *testing.T, b map[string]any) {
				if b["message"] != "request body exceeds the limit of 1024 bytes" {
					t.Errorf("message = %v", b["message"])
				}
			}},
		{name: "masked plain error", method: http.MethodPost, path: "/v1/tools/boom:call", body: `{}`, wantStatus: 500, check: noLeak},
		{name: "masked internal status", method: http.MethodPost, path: "/v1/tools/raw-internal:call", body: `{}`, wantStatus: 500, check: noLeak},
		{name: "body not UTF-8", method: http.MethodPost, path: "/v1/tools/echo:call", body: `{"arguments":{"text":"caf` + "\xe9" + `"}}`, wantStatus: 400,
			check: func(t *testing.T, b map[string]any) {
				if b["message"] != "request body is not valid UTF-8" {
					t.Errorf("message = %v", b["message"])
				}
			}},
		{name: "bad JSON body", method: http.MethodPost, path: "/v1/tools/echo:call", body: `{`, wantStatus: 400},
		{name: "providers", method: http.MethodGet, path: "/v1/providers", wantStatus: 200, check: func(t *testing.T, b map[string]any) {
			ps, _ := b["providers"].([]any)
			if p, _ := ps[0].(map[string]any); len(ps) != 1 || p["name"] != "everything" || p["toolCount"] != float64(1) {
				t.Errorf("providers = %v", b["providers"])
			}
		}},
		{name: "health", method: http.MethodGet, path: "/v1/health", wantStatus: 200, check: func(t *testing.T, b map[string]any) {
			if b["status"] != "STATUS_SERVING" {
				t.Errorf("status = %v", b["status"])
			}
			cs, _ := b["components"].([]any)
			if c, _ := cs[0].(map[string]any); len(cs) != 1 || c["name"] != "registry" {
				t.Errorf("components = %v", b["components"])
			}
		}},
		{name: "unimplemented prompts", method: http.MethodGet, path: "/v1/prompts", wantStatus: 501},
		{name: "get session", method: http.MethodGet, path: "/v1/sessions/sess-9", wantStatus: 200, check: func(t *testing.T, b map[string]any) {
			s, _ := b["session"].(map[string]any)
			if s["id"] != "sess-9" || s["protocolVersion"] != "2025-11-25" {
				t.Errorf("session = %v", b["session"])
			}
			// JSON the client sent comes back as JSON, not base64.
			if info, _ := s["clientInfo"].(map[string]any); info["name"] != "probe" {
				t.Errorf("clientInfo = %#v, want the JSON object", s["clientInfo"])
			}
			if caps, _ := s["clientCapabilities"].(map[string]any); caps["roots"] == nil {
				t.Errorf("clientCapabilities = %#v, want the JSON object", s["clientCapabilities"])
			}
		}},
		{name: "missing session", method: http.MethodGet, path: "/v1/sessions/x", wantStatus: 404},
		{name: "delete session", method: http.MethodDelete, path: "/v1/sessions/sess-9", wantStatus: 200},
		{name: "unknown REST path", method: http.MethodGet, path: "/v1/nothing", wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			var headers map[string]string
			if tc.body != "" {
				headers = map[string]string{"Content-Type": "application/json"}
			}
			resp, raw := h.do(h.request(tc.method, tc.path, tc.body, headers))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.wantStatus, raw)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", raw, err)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

// noLeak checks a masked REST error: generic message with an id, no internal detail.
func noLeak(t *testing.T, b map[string]any) {
	t.Helper()
	msg, _ := b["message"].(string)
	if !strings.HasPrefix(msg, "internal error (id ") {
		t.Errorf("message = %q, want the generic one with an id", msg)
	}
	raw, _ := json.Marshal(b)
	if strings.Contains(string(raw), "10.9.8.7") || strings.Contains(string(raw), "dial") {
		t.Errorf("error leaks internals: %s", raw)
	}
}

func TestOpenAPI(t *testing.T) {
	h := newHarness(t, harnessOptions{inProcess: true})
	h.t = t
	resp, raw := h.do(h.request(http.MethodGet, "/openapi.json", "", nil))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		Info struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"info"`
		Paths       map[string]map[string]json.RawMessage `json:"paths"`
		Definitions map[string]struct {
			Properties map[string]struct {
				Type string `json:"type"`
			} `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Info.Title != "mcpmesh REST API" || doc.Info.Version != "v1" {
		t.Errorf("info = %+v, want the API's title and version (proto/mcpmesh/mcpmesh_openapi.yaml)", doc.Info)
	}
	for _, path := range []string{"/v1/tools", "/v1/tools/{name}:call", "/v1/resources:read", "/v1/prompts/{name}:get"} {
		if _, ok := doc.Paths[path]; !ok {
			t.Errorf("paths lack %s: %d paths", path, len(doc.Paths))
		}
	}
	// The document lists only what the gateway serves: the upstream admin API is the
	// admin listener's (its own document, TestUpstreamAdminOpenAPI in cmd/mcpmesh).
	for path := range doc.Paths {
		if strings.HasPrefix(path, "/v1/admin/") {
			t.Errorf("the gateway's document lists %s, which only the admin listener serves", path)
		}
	}
	// Every documented operation is routed: a route the gateway lacks answers as an
	// unknown path does, whatever the method.
	missResp, miss := h.do(h.request(http.MethodGet, "/v1/no-such-route", "", nil))
	for path, ops := range doc.Paths {
		concrete := strings.NewReplacer("{name}", "echo", "{sessionId}", "no-such-session").Replace(path)
		for method := range ops {
			resp, body := h.do(h.request(strings.ToUpper(method), concrete, "{}", map[string]string{"Content-Type": "application/json"}))
			if resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == missResp.StatusCode && string(body) == string(miss) {
				t.Errorf("%s %s is documented but not served: %d %s", strings.ToUpper(method), concrete, resp.StatusCode, body)
			}
		}
	}
	// The arguments of a call are a JSON object on the wire (rawjson.go), and the
	// document says so, not base64; so are the JSON fields of a session.
	if got := doc.Definitions["SessionServiceCallToolBody"].Properties["arguments"].Type; got != "object" {
		t.Errorf("arguments documented as %q, want object", got)
	}
	if got := doc.Definitions["v1Session"].Properties["clientInfo"].Type; got != "object" {
		t.Errorf("clientInfo documented as %q, want object", got)
	}
}
