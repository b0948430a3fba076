package mesh

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// virtualServersMesh runs the whole mesh in one process with two virtual servers over
// the everything provider: "math" shows add and echo (echo only to alice, by its own
// rule), the static resources and the greet prompt; "other" shows the prompts only.
// It returns the base URL once the everything provider's tools are routed.
func virtualServersMesh(t *testing.T) string {
	t.Helper()
	cfg := allInOne(t)
	cfg.VirtualServers = []session.VirtualServer{
		{
			Name: "math", Description: "arithmetic for the finance agent",
			Tools: []string{"add", "echo"}, Resources: []string{"everything://static/*"}, Prompts: []string{"greet"},
			Policy: session.PolicyConfig{Default: "allow", Rules: []session.PolicyRule{
				{Name: "echo-for-alice", Tools: []string{"echo"}, Allow: `principal.subject == "alice"`},
			}},
		},
		{Name: "other", Prompts: []string{"*"}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base := startWith(t, cfg)
	eventually.NoError(t, 10*time.Second, func() error {
		resp, err := http.Get(base + "/v1/tools?page_size=100")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || !strings.Contains(string(body), `"name":"touch-resource"`) {
			return errors.New("the everything provider's tools are not listed yet")
		}
		return nil
	}, "the everything provider's tools are routed")
	return base
}

// TestVirtualServerShowsItsSelection connects the official Go SDK client to
// /mcp/math in both protocol generations: it lists exactly the selection (less echo,
// which the virtual server's own rule keeps from the anonymous caller), calls add, and
// is refused a tool of the mesh outside the selection exactly as a tool that does not
// exist; resources and prompts likewise.
func TestVirtualServerShowsItsSelection(t *testing.T) {
	base := virtualServersMesh(t)
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			ctx := t.Context()
			client := mcp.NewClient(&mcp.Implementation{Name: "virtual-server-test", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp/math", MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect to /mcp/math: %v", err)
			}
			defer cs.Close()

			tools, err := toolNames(ctx, cs)
			if err != nil || !slices.Equal(tools, []string{"add"}) {
				t.Fatalf("tools %v (%v), want [add]", tools, err)
			}
			if text, err := callText(ctx, cs, "add", map[string]any{"a": 1, "b": 2}); err != nil || !strings.Contains(text, "3") {
				t.Fatalf("add: %q %v", text, err)
			}
			// A tool of the mesh outside the selection is answered as one that does not exist.
			_, outside := cs.CallTool(ctx, &mcp.CallToolParams{Name: "touch-resource", Arguments: map[string]any{}})
			_, missing := cs.CallTool(ctx, &mcp.CallToolParams{Name: "no-such-tool", Arguments: map[string]any{}})
			if outside == nil || missing == nil || strings.ReplaceAll(outside.Error(), "touch-resource", "no-such-tool") != missing.Error() {
				t.Fatalf("touch-resource outside the selection: %v; an unknown tool: %v", outside, missing)
			}

			var uris []string
			for r, err := range cs.Resources(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				uris = append(uris, r.URI)
			}
			if len(uris) == 0 || slices.ContainsFunc(uris, func(u string) bool { return !strings.HasPrefix(u, "everything://static/") }) {
				t.Fatalf("resources %v, want the static ones only", uris)
			}
			for tpl, err := range cs.ResourceTemplates(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				t.Errorf("template %s listed outside the selection", tpl.URITemplate)
			}
			if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "everything://static/1"}); err != nil {
				t.Fatalf("read a selected resource: %v", err)
			}
			_, outside = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "everything://items/1"})
			_, missing = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "nothing://items/1"})
			if outside == nil || missing == nil || strings.ReplaceAll(outside.Error(), "everything://items/1", "nothing://items/1") != missing.Error() {
				t.Fatalf("resource outside the selection: %v; an unknown one: %v", outside, missing)
			}

			var prompts []string
			for p, err := range cs.Prompts(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				prompts = append(prompts, p.Name)
			}
			if !slices.Equal(prompts, []string{"greet"}) {
				t.Fatalf("prompts %v, want [greet]", prompts)
			}
			_, outside = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "simple"})
			_, missing = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "no-such-prompt"})
			if outside == nil || missing == nil || strings.ReplaceAll(outside.Error(), "simple", "no-such-prompt") != missing.Error() {
				t.Fatalf("prompt outside the selection: %v; an unknown one: %v", outside, missing)
			}
		})
	}
}

// TestVirtualServerSessionsStayOnTheirPath: a session created through /mcp/math is
// unknown on /mcp/other and /mcp, and one created through /mcp is unknown on
// /mcp/math, all answered like a session that does not exist.
func TestVirtualServerSessionsStayOnTheirPath(t *testing.T) {
	base := virtualServersMesh(t)
	cs := sdkSession(t, base+"/mcp/math", nil)
	listTools := `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}`
	headers := func(id string) map[string]string {
		return map[string]string{"Accept": "application/json, text/event-stream", "Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"}
	}
	if resp, raw := post(t, base+"/mcp/math", listTools, headers(cs.ID())); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session on its own path: %d %s", resp.StatusCode, raw)
	}
	_, unknown := post(t, base+"/mcp", listTools, headers("no-such-session"))
	for _, path := range []string{"/mcp/other", "/mcp"} {
		resp, raw := post(t, base+path, listTools, headers(cs.ID()))
		if resp.StatusCode != http.StatusNotFound || strings.ReplaceAll(string(raw), cs.ID(), "no-such-session") != string(unknown) {
			t.Errorf("the /mcp/math session on %s: %d %s; an unknown session: %s", path, resp.StatusCode, raw, unknown)
		}
	}
	whole := initializeSession(t, base)
	if resp, raw := post(t, base+"/mcp/math", listTools, headers(whole["Mcp-Session-Id"])); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a /mcp session on /mcp/math: %d %s", resp.StatusCode, raw)
	}
	// DELETE through another path ends nothing.
	req, _ := http.NewRequest(http.MethodDelete, base+"/mcp", nil)
	req.Header.Set("Mcp-Session-Id", cs.ID())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("DELETE of the /mcp/math session on /mcp: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if _, err := toolNames(t.Context(), cs); err != nil {
		t.Fatalf("the session after a DELETE elsewhere: %v", err)
	}
}

// TestVirtualServerREST: the REST listings and calls under /v1/servers/<name>/ show
// and allow the selection only, an unknown name is 404 on every surface, and a client
// cannot choose a virtual server by a header.
func TestVirtualServerREST(t *testing.T) {
	base := virtualServersMesh(t)
	if tools := listREST(t, base, "/v1/servers/math/tools", "tools", "name"); !slices.Equal(tools, []string{"add"}) {
		t.Fatalf("REST tools of math %v, want [add]", tools)
	}
	if prompts := listREST(t, base, "/v1/servers/math/prompts", "prompts", "name"); !slices.Equal(prompts, []string{"greet"}) {
		t.Fatalf("REST prompts of math %v, want [greet]", prompts)
	}
	call := func(path string, arguments ...string) (int, string) {
		args := `{"a":1,"b":2}`
		if len(arguments) > 0 {
			args = arguments[0]
		}
		resp, raw := post(t, base+path, `{"arguments":`+args+`}`, nil)
		return resp.StatusCode, string(raw)
	}
	if code, body := call("/v1/servers/math/tools/add:call"); code != http.StatusOK || !strings.Contains(body, "3") {
		t.Fatalf("REST call of add through math: %d %s", code, body)
	}
	outsideCode, outside := call("/v1/servers/math/tools/touch-resource:call")
	missingCode, missing := call("/v1/servers/math/tools/no-such-tool:call")
	if outsideCode != http.StatusNotFound || outsideCode != missingCode || strings.ReplaceAll(outside, "touch-resource", "no-such-tool") != missing {
		t.Fatalf("REST call outside the selection: %d %s; an unknown tool: %d %s", outsideCode, outside, missingCode, missing)
	}

	get := func(path string, header http.Header) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if code, body := get("/v1/servers/other/tools", nil); code != http.StatusOK || strings.Contains(body, `"name"`) {
		t.Fatalf("REST tools of other: %d %s, want none", code, body)
	}
	// The virtual server's own rule refuses echo to the anonymous caller (the global
	// policy has no rules), as a policy refusal: 403 and JSON-RPC -32003.
	body, headers := toolCallRequest(map[string]string{"MCP-Protocol-Version": "2026-07-28"}, "echo", `{"message":"hi"}`)
	if resp, raw := post(t, base+"/mcp/math", body, headers); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(raw), "-32003") {
		t.Fatalf("echo through math: %d %s, want 403 and -32003", resp.StatusCode, raw)
	}
	if code, body := call("/v1/tools/echo:call", `{"message":"hi"}`); code != http.StatusOK {
		t.Fatalf("echo through the whole mesh: %d %s", code, body)
	}
	for _, path := range []string{"/v1/servers/nope/tools", "/v1/servers/math/providers"} {
		if code, body := get(path, nil); code != http.StatusNotFound || !strings.Contains(body, "Not Found") {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	if resp, raw := post(t, base+"/mcp/nope", `{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		map[string]string{"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28"}); resp.StatusCode != http.StatusNotFound ||
		!strings.Contains(string(raw), `no virtual server is named \"nope\"`) {
		t.Errorf("POST /mcp/nope: %d %s", resp.StatusCode, raw)
	}
	// The metadata entry the gateway writes cannot come from a client's header.
	code, body := get("/v1/tools?page_size=100", http.Header{"Grpc-Metadata-Mcpmesh-Virtual-Server": {"other"}})
	if code != http.StatusOK || !strings.Contains(body, `"name":"touch-resource"`) {
		t.Fatalf("GET /v1/tools with a virtual-server header: %d %s", code, body)
	}
}

// TestVirtualServersReload: the selections and rules of the virtual servers change
// without a restart; a reload that adds, removes or renames one, or does not compile,
// is refused and the virtual servers in force stay.
func TestVirtualServersReload(t *testing.T) {
	cfg := allInOne(t)
	cfg.VirtualServers = []session.VirtualServer{{Name: "math", Tools: []string{"add"}}}
	m, base := startMesh(t, cfg)
	eventually.NoError(t, 10*time.Second, func() error {
		resp, err := http.Get(base + "/v1/servers/math/tools")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `"name":"add"`) {
			return errors.New("add is not listed yet")
		}
		return nil
	}, "math lists add")
	if err := m.ReloadVirtualServers([]session.VirtualServer{{Name: "math", Tools: []string{"add", "echo"}}}); err != nil {
		t.Fatal(err)
	}
	if tools := listREST(t, base, "/v1/servers/math/tools", "tools", "name"); !slices.Equal(tools, []string{"add", "echo"}) {
		t.Fatalf("after the reload: %v, want [add echo]", tools)
	}
	for _, refused := range [][]session.VirtualServer{
		{{Name: "maths", Tools: []string{"*"}}},
		{{Name: "math", Tools: []string{"*"}}, {Name: "ops", Tools: []string{"*"}}},
		{{Name: "math", Tools: []string{""}}},
	} {
		if err := m.ReloadVirtualServers(refused); err == nil {
			t.Errorf("reload %+v accepted", refused)
		}
	}
	if tools := listREST(t, base, "/v1/servers/math/tools", "tools", "name"); !slices.Equal(tools, []string{"add", "echo"}) {
		t.Fatalf("after refused reloads: %v, want [add echo]", tools)
	}
}
