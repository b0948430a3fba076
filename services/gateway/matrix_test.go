package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/gateway"
)

// Who may reach what: every HTTP route of the gateway under every auth mode, without a
// credential and with a valid one. Protected routes refuse a caller without credentials
// with 401 and a challenge whenever a mode is on; probes, /openapi.json and /metrics
// stay open (the metrics' move to the admin listener is the listener's concern), and the
// protected-resource metadata exists only with OAuth.
func TestRouteAuthMatrix(t *testing.T) {
	iss := newTestIssuer(t)
	k := newRSAKey(t, "k1")
	iss.publish(k)
	keys := newAPIKeyFixture(t)
	apiKey := keys.add(t, "matrix", []string{"mcp:tools"}, time.Time{})
	jwt := sign(t, k, goodClaims(iss.url(), time.Now()), "", "k1")

	type route struct {
		name, method, path, body string
		headers                  map[string]string
		protected                bool
		metadata                 bool // exists only with OAuth
	}
	stateful := mcpHeaders(map[string]string{"MCP-Protocol-Version": "2025-11-25"})
	stateless := mcpHeaders(map[string]string{"MCP-Protocol-Version": "2026-07-28"})
	routes := []route{
		{name: "POST /mcp 2025-11-25", method: http.MethodPost, path: "/mcp", body: rpc("json"), headers: stateful, protected: true},
		{name: "POST /mcp 2026-07-28", method: http.MethodPost, path: "/mcp", body: rpc("json"), headers: stateless, protected: true},
		{name: "GET /mcp", method: http.MethodGet, path: "/mcp", headers: map[string]string{"Accept": "text/event-stream"}, protected: true},
		{name: "DELETE /mcp", method: http.MethodDelete, path: "/mcp", headers: map[string]string{"Mcp-Session-Id": "s"}, protected: true},
		{name: "GET /sse", method: http.MethodGet, path: "/sse", protected: true},
		{name: "POST /messages", method: http.MethodPost, path: "/messages?sessionId=x", body: rpc("json"), headers: mcpHeaders(nil), protected: true},
		{name: "GET /v1/tools", method: http.MethodGet, path: "/v1/tools", protected: true},
		{name: "POST /v1/tools/echo:call", method: http.MethodPost, path: "/v1/tools/echo:call", body: `{"arguments":{"text":"x"}}`, protected: true},
		{name: "GET /openapi.json", method: http.MethodGet, path: "/openapi.json"},
		{name: "GET /healthz", method: http.MethodGet, path: "/healthz"},
		{name: "GET /readyz", method: http.MethodGet, path: "/readyz"},
		{name: "GET /startupz", method: http.MethodGet, path: "/startupz"},
		{name: "GET /metrics", method: http.MethodGet, path: "/metrics"},
		{name: "GET metadata", method: http.MethodGet, path: "/.well-known/oauth-protected-resource", metadata: true},
		{name: "GET metadata /mcp", method: http.MethodGet, path: "/.well-known/oauth-protected-resource/mcp", metadata: true},
	}
	modes := []struct {
		mode       string
		credential string // valid for the mode; empty in none
		oauth      bool
	}{
		{"none", "", false},
		{"oauth", jwt, true},
		{"api_key", apiKey, false},
		{"oauth+api_key", jwt, true},
		{"oauth+api_key", apiKey, true},
	}
	for _, m := range modes {
		h := newHarness(t, harnessOptions{configure: func(c *gateway.Config) {
			if m.oauth {
				oauthConfig(iss, false)(c)
			}
			keys.configure(m.mode)(c)
			c.Auth.Mode = m.mode
		}})
		for _, r := range routes {
			for _, withCredential := range []bool{false, true} {
				if withCredential && m.credential == "" {
					continue
				}
				headers := map[string]string{}
				for k, v := range r.headers {
					headers[k] = v
				}
				if withCredential {
					headers["Authorization"] = "Bearer " + m.credential
				}
				name := m.mode + " " + r.name
				if withCredential {
					name += " with credential"
				}
				t.Run(name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					req := h.request(r.method, r.path, r.body, headers).WithContext(ctx)
					resp, err := h.client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					_ = resp.Body.Close()
					challenged := resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != ""
					switch {
					case r.metadata && !m.oauth:
						if resp.StatusCode != http.StatusNotFound {
							t.Errorf("status %d, want 404 (no metadata without OAuth)", resp.StatusCode)
						}
					case r.protected && m.mode != "none" && !withCredential:
						if !challenged {
							t.Errorf("status %d (WWW-Authenticate %q), want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
						}
					default:
						// /startupz says 503 here: the harness never calls Serve.
						if challenged || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500 && r.path != "/startupz" {
							t.Errorf("status %d (WWW-Authenticate %q): the route was not reached", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
						}
					}
				})
			}
		}
	}
}
