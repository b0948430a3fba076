package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/gateway"
)

func withVirtualServers(names ...string) func(*gateway.Config) {
	return func(c *gateway.Config) { c.VirtualServers = names }
}

// TestVirtualServerRoutes: /mcp/<name> and /v1/servers/<name>/ reach the same services
// as /mcp and /v1 with the name in the context; an unknown name, a deeper path and a
// REST route that is not the session's are 404 with a body that says so; and a client
// cannot name a virtual server by a header (over a real gRPC hop, where a forwarded
// header would become metadata).
func TestVirtualServerRoutes(t *testing.T) {
	h := newHarness(t, harnessOptions{inProcess: true, configure: withVirtualServers("math", "ops")})
	for path, want := range map[string]string{"/mcp/math": "math", "/mcp/ops": "ops", "/mcp": ""} {
		resp, body := h.do(h.request(http.MethodPost, path, rpc("json"), mcpHeaders(nil)))
		if resp.StatusCode != http.StatusOK || h.transport.virtualServer() != want {
			t.Errorf("POST %s: %d %s, virtual server %q; want 200 and %q", path, resp.StatusCode, body, h.transport.virtualServer(), want)
		}
	}
	if resp, _ := h.do(h.request(http.MethodPut, "/mcp/math", "", nil)); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("PUT /mcp/math: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	for _, tc := range []struct{ method, path, want string }{
		{http.MethodPost, "/mcp/nope", `"message":"Not Found: no virtual server is named \"nope\""`},
		{http.MethodGet, "/mcp/nope", `no virtual server is named \"nope\"`},
		{http.MethodDelete, "/mcp/nope", `no virtual server is named \"nope\"`},
		{http.MethodGet, "/v1/servers/nope/tools", `"code":5,"message":"Not Found: no virtual server is named \"nope\""`},
		{http.MethodGet, "/v1/servers/math/providers", `followed by tools, resources, resource-templates, prompts, sessions`},
		{http.MethodGet, "/v1/servers/math/health", `followed by tools`},
		{http.MethodPost, "/mcp/math/deeper", ``},
	} {
		resp, body := h.do(h.request(tc.method, tc.path, rpc("json"), mcpHeaders(nil)))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s: %d %s; want 404 with %s", tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
	}
	for path, want := range map[string]string{"/v1/servers/math/tools": `"name":"echo@math"`, "/v1/tools": `"name":"echo"`} {
		resp, body := h.do(h.request(http.MethodGet, path, "", nil))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %s; want %s", path, resp.StatusCode, body, want)
		}
	}
	resp, body := h.do(h.request(http.MethodPost, "/v1/servers/math/tools/echo:call", `{"arguments":{"text":"hi"}}`, map[string]string{"Content-Type": "application/json"}))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"text":"hi"`) {
		t.Errorf("REST call through math: %d %s", resp.StatusCode, body)
	}

	network := newHarness(t, harnessOptions{configure: withVirtualServers("math")})
	for _, header := range []string{"Grpc-Metadata-Mcpmesh-Virtual-Server", "Grpc-Metadata-mcpmesh-virtual-server"} {
		resp, body := network.do(network.request(http.MethodGet, "/v1/tools", "", map[string]string{header: "math"}))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name":"echo"`) {
			t.Errorf("GET /v1/tools with %s: %d %s; want the whole mesh's listing", header, resp.StatusCode, body)
		}
	}
}

// TestVirtualServerMetadataAndChallenges: with OAuth each virtual server has RFC 9728
// metadata of its own, whose resource is the mesh's resource with the name appended,
// and the 401 and step-up challenges of its paths point at it; other paths keep the
// mesh's. A token for the mesh opens every virtual server; a token issued for one
// virtual server's URI (RFC 8707) opens that one only.
func TestVirtualServerMetadataAndChallenges(t *testing.T) {
	iss := newTestIssuer(t)
	k := newRSAKey(t, "k1")
	iss.publish(k)
	h := newHarness(t, harnessOptions{inProcess: true, configure: func(c *gateway.Config) {
		oauthConfig(iss, false)(c)
		c.VirtualServers = []string{"math", "ops"}
	}})
	resp, body := h.do(h.request(http.MethodGet, "/.well-known/oauth-protected-resource/mcp/math", "", nil))
	var m map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &m) != nil {
		t.Fatalf("metadata of math: %d %s", resp.StatusCode, body)
	}
	want := map[string]any{"resource": testResource + "/math", "authorization_servers": []any{iss.url()},
		"scopes_supported": []any{"mcp:tools"}, "bearer_methods_supported": []any{"header"}}
	if mustJSON(t, m) != mustJSON(t, want) {
		t.Errorf("metadata of math: %s, want %s", body, mustJSON(t, want))
	}
	resp, body = h.do(h.request(http.MethodGet, "/.well-known/oauth-protected-resource/mcp/nope", "", nil))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"error":"not_found"`) {
		t.Errorf("metadata of nope: %d %s", resp.StatusCode, body)
	}

	const mathMetadata = `resource_metadata="https://mesh.example.com/.well-known/oauth-protected-resource/mcp/math"`
	const meshMetadata = `resource_metadata="https://mesh.example.com/.well-known/oauth-protected-resource/mcp"`
	token := map[string]string{"Authorization": "Bearer " + sign(t, k, goodClaims(iss.url(), time.Now()), "", "k1")}
	for _, tc := range []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		metadata                 string
	}{
		{"401 on /mcp/math", http.MethodPost, "/mcp/math", rpc("json"), nil, 401, mathMetadata},
		{"401 on /v1/servers/math", http.MethodGet, "/v1/servers/math/tools", "", nil, 401, mathMetadata},
		{"401 on /mcp", http.MethodPost, "/mcp", rpc("json"), nil, 401, meshMetadata},
		{"step-up on /mcp/math", http.MethodPost, "/mcp/math", rpc("deny-scope"), token, 403, mathMetadata},
		{"step-up on /v1/servers/math", http.MethodPost, "/v1/servers/math/tools/deny-scope:call", `{}`, token, 403, mathMetadata},
		{"step-up on /mcp", http.MethodPost, "/mcp", rpc("deny-scope"), token, 403, meshMetadata},
	} {
		resp, body := h.do(h.request(tc.method, tc.path, tc.body, mcpHeaders(tc.headers)))
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != tc.status || !strings.Contains(challenge, tc.metadata+",") {
			t.Errorf("%s: %d %q %s; want %d naming %s", tc.name, resp.StatusCode, challenge, body, tc.status, tc.metadata)
		}
	}
	if resp, body := h.do(h.request(http.MethodPost, "/mcp/math", rpc("json"), mcpHeaders(token))); resp.StatusCode != http.StatusOK {
		t.Errorf("a token for the mesh on /mcp/math: %d %s", resp.StatusCode, body)
	}
	claims := goodClaims(iss.url(), time.Now())
	claims["aud"] = testResource + "/math"
	forMath := map[string]string{"Authorization": "Bearer " + sign(t, k, claims, "", "k1")}
	for path, want := range map[string]int{"/mcp/math": 200, "/mcp": 401, "/mcp/ops": 401, "/mcp/math?again": 200} {
		resp, body := h.do(h.request(http.MethodPost, path, rpc("json"), mcpHeaders(forMath)))
		if resp.StatusCode != want {
			t.Errorf("a token for math on %s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
		if want == 401 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("a token for math on %s: %q", path, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// The names the gateway routes are checked when it starts: one path segment each,
// once, and not where the mesh's own metadata is.
func TestVirtualServerNamesChecked(t *testing.T) {
	for _, tc := range []struct {
		names    []string
		resource string
		want     string
	}{
		{[]string{"Math"}, "", `virtual_servers[0] (Math).name: name "Math" may hold only`},
		{[]string{"a", "a"}, "", `virtual_servers[1] (a).name: "a" is the name of an earlier virtual server`},
		{[]string{"reports"}, "https://mesh.example.com/mcp/reports", `"reports" would serve its metadata at /.well-known/oauth-protected-resource/mcp/reports`},
		{[]string{"mcp"}, "https://mesh.example.com", `"mcp" would serve its metadata at /.well-known/oauth-protected-resource/mcp,`},
	} {
		c := gateway.DefaultConfig()
		c.VirtualServers = tc.names
		c.Auth.OAuth.Resource = tc.resource
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v with resource %q: %v; want %s", tc.names, tc.resource, err, tc.want)
		}
	}
}
