package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/testop"
)

// tsOAuthClient is one of the TypeScript OAuth client scripts of tools/interop: the SDK
// generation it runs on and the protocol generation it must speak to the gateway.
type tsOAuthClient struct {
	generation string // of the SDK, for the subtest's name
	script     string // in tools/interop
	sdkPackage string // pinned in tools/interop/package.json
	protocol   string // the MCP-Protocol-Version of its tools/list and tools/call requests
	handshake  string // the first request to the gateway, the one the 401 answers
	steps      []string
}

// tsOAuthClients are the v1 SDK on the stateful generation (initialize, a session that
// ends with DELETE) and the v2 client pinned to the stateless one (server/discover, no
// session).
var tsOAuthClients = []tsOAuthClient{
	{
		generation: "v1 SDK", script: "ts-oauth-client.mjs", sdkPackage: "@modelcontextprotocol/sdk", protocol: "2025-11-25", handshake: "initialize",
		steps: []string{"authorize and connect", "tools/list", "tools/call echo", "tools/call whoami", "step-up", "tools/list after step-up", "close (DELETE)"},
	},
	{
		generation: "v2 client", script: "ts2-oauth-client.mjs", sdkPackage: "@modelcontextprotocol/client", protocol: "2026-07-28", handshake: "server/discover",
		steps: []string{"authorize and connect", "tools/list", "tools/call echo", "tools/call whoami", "step-up", "tools/list after step-up", "close"},
	},
}

// tsOAuthReport is what the scripts print on stdout (see tools/interop/oauth-user.mjs).
type tsOAuthReport struct {
	OK              bool   `json:"ok"`
	SDKPackage      string `json:"sdkPackage"`
	SDKVersion      string `json:"sdkVersion"`
	NodeVersion     string `json:"nodeVersion"`
	TimedOut        bool   `json:"timedOut"`
	ProtocolVersion string `json:"protocolVersion"`
	Steps           []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"steps"`
	HTTP           []tsExchange `json:"http"`
	Authorizations []struct {
		ClientID            string `json:"clientId"`
		Scope               string `json:"scope"`
		Resource            string `json:"resource"`
		CodeChallengeMethod string `json:"codeChallengeMethod"`
		RedirectURI         string `json:"redirectUri"`
	} `json:"authorizations"`
	Tokens []struct {
		Sub       string          `json:"sub"`
		Aud       json.RawMessage `json:"aud"`
		Scope     string          `json:"scope"`
		Signature string          `json:"signature"`
	} `json:"tokens"`
	Whoami *whoamiOut `json:"whoami"`
}

// tsExchange is one HTTP exchange of the TypeScript client. ProtocolVersion and
// MCPMethod are only set on requests to the MCP endpoint.
type tsExchange struct {
	Method          string `json:"method"`
	URL             string `json:"url"`
	Status          int    `json:"status"`
	WWWAuthenticate string `json:"wwwAuthenticate"`
	ProtocolVersion string `json:"protocolVersion"`
	MCPMethod       string `json:"mcpMethod"`
}

// runTypeScriptOAuth runs script c against the mesh as the pre-registered public client
// and checks what it did on the wire. sent gets the signatures of the client's tokens as
// soon as the report is read, for the check that no provider ever sees them.
func (m *oauthMesh) runTypeScriptOAuth(t *testing.T, c tsOAuthClient, sent func(string)) {
	node, dir, sdkPin := tsToolchain(t, c.sdkPackage)
	authorizeBefore, tokenBefore := m.idp.RequestedResources()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // the script gives up after 30 s
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, c.script), m.resource)
	cmd.Env = append(os.Environ(),
		"OAUTH_CLIENT_ID="+testop.PublicClientID, "OAUTH_REDIRECT_URI="+testop.PublicRedirectURI,
		"OAUTH_USERNAME="+m.idp.Username(), "OAUTH_PASSWORD="+testop.Password, "STEP_UP_TOOL="+stepUpTool)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var report tsOAuthReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("%s printed no report (%v; run: %v)\nstdout:\n%s\nstderr:\n%s", c.script, err, runErr, stdout.String(), stderr.String())
	}
	for _, tok := range report.Tokens {
		sent(tok.Signature)
	}
	passed := map[string]bool{}
	for _, s := range report.Steps {
		passed[s.Name] = s.OK
		if !s.OK {
			t.Errorf("%s step %q failed: %s", c.sdkPackage, s.Name, s.Detail)
		}
	}
	for _, name := range c.steps {
		if !passed[name] {
			t.Errorf("step %q did not pass (missing from the report?)", name)
		}
	}
	if runErr != nil || !report.OK || report.TimedOut {
		t.Fatalf("%s failed (exit: %v, ok=%v, timed out=%v)\nstderr:\n%s", c.script, runErr, report.OK, report.TimedOut, stderr.String())
	}
	if report.SDKPackage != c.sdkPackage || report.SDKVersion != sdkPin || !strings.HasPrefix(report.NodeVersion, "v22.") {
		t.Errorf("ran %s %s on Node %s, want %s %s on Node 22", report.SDKPackage, report.SDKVersion, report.NodeVersion, c.sdkPackage, sdkPin)
	}

	m.checkTypeScriptGeneration(t, c, &report)
	m.checkTypeScriptDiscovery(t, &report)
	m.checkTypeScriptAuthorizations(t, &report, authorizeBefore, tokenBefore)

	// The witness saw the user, as the mesh vouches for them, with the first token's scope.
	if who := report.Whoami; who == nil || who.Subject != testop.UserSubject || who.PrincipalIssuer != m.idp.Issuer || !slices.Equal(who.Audience, []string{witnessName}) || who.Scope != baseScope {
		t.Errorf("the witness's assertion says %+v; want subject %s from %s, audience [%s], scope %s", who, testop.UserSubject, m.idp.Issuer, witnessName, baseScope)
	}
	for _, s := range report.Steps {
		t.Logf("%s %s: %s: %s", report.SDKPackage, report.SDKVersion, s.Name, s.Detail)
	}
}

// checkTypeScriptGeneration checks the protocol generation the client spoke: the
// version the SDK says it negotiated, the handshake the gateway's 401 answered (and no
// other handshake), and the MCP-Protocol-Version header of every tools request.
func (m *oauthMesh) checkTypeScriptGeneration(t *testing.T, c tsOAuthClient, report *tsOAuthReport) {
	t.Helper()
	if report.ProtocolVersion != c.protocol {
		t.Errorf("the SDK negotiated %q, want %s", report.ProtocolVersion, c.protocol)
	}
	handshakes := map[string]int{}
	calls := 0
	for i, h := range report.HTTP {
		if h.URL != m.resource {
			continue
		}
		switch h.MCPMethod {
		case "initialize", "server/discover":
			handshakes[h.MCPMethod]++
		case "tools/list", "tools/call":
			if h.ProtocolVersion != c.protocol {
				t.Errorf("exchange %d: %s %s sent MCP-Protocol-Version %q, want %s", i, h.Method, h.MCPMethod, h.ProtocolVersion, c.protocol)
			}
			if h.MCPMethod == "tools/call" && h.Status == http.StatusOK {
				calls++
			}
		}
	}
	if len(handshakes) != 1 || handshakes[c.handshake] == 0 {
		t.Errorf("handshakes sent: %v; want only %s", handshakes, c.handshake)
	}
	// echo, whoami, and the step-up tool after the step-up.
	if calls < 3 {
		t.Errorf("%d tools/call answered 200, want at least 3", calls)
	}
}

// checkTypeScriptDiscovery checks that the first request got the 401 naming the
// metadata, which the client then fetched, and that one 403 insufficient_scope started
// the step-up.
func (m *oauthMesh) checkTypeScriptDiscovery(t *testing.T, report *tsOAuthReport) {
	t.Helper()
	if len(report.HTTP) == 0 || report.HTTP[0].Status != http.StatusUnauthorized || !strings.Contains(report.HTTP[0].WWWAuthenticate, `resource_metadata="`) {
		t.Errorf("the client's first request did not get the 401 challenge: %+v", report.HTTP[:min(1, len(report.HTTP))])
	}
	metadataURL := strings.TrimSuffix(m.base, "/") + "/.well-known/oauth-protected-resource/mcp"
	if !slices.ContainsFunc(report.HTTP, func(h tsExchange) bool {
		return h.URL == metadataURL && h.Status == http.StatusOK
	}) {
		t.Errorf("the client never fetched %s", metadataURL)
	}
	forbidden := 0
	for _, h := range report.HTTP {
		if h.Status == http.StatusForbidden {
			forbidden++
			if !strings.Contains(h.WWWAuthenticate, `error="insufficient_scope"`) || !strings.Contains(h.WWWAuthenticate, stepUpScope) {
				t.Errorf("403 with challenge %q, want insufficient_scope naming %s", h.WWWAuthenticate, stepUpScope)
			}
		}
	}
	if forbidden != 1 {
		t.Errorf("the client got %d answers 403, want the one that starts the step-up", forbidden)
	}
}

// checkTypeScriptAuthorizations checks the two authorizations, both PKCE with S256 for
// the mesh's resource (the first for the scope of the 401, the second for the 403's,
// which adds stepUpScope), the resource parameters the OpenID provider received since
// authorizeBefore and tokenBefore, and the user's two tokens for the mesh.
func (m *oauthMesh) checkTypeScriptAuthorizations(t *testing.T, report *tsOAuthReport, authorizeBefore, tokenBefore []string) {
	t.Helper()
	if len(report.Authorizations) != 2 {
		t.Fatalf("%d authorizations, want 2: %+v", len(report.Authorizations), report.Authorizations)
	}
	for i, a := range report.Authorizations {
		if a.ClientID != testop.PublicClientID || a.CodeChallengeMethod != "S256" || a.Resource != m.resource || a.RedirectURI != testop.PublicRedirectURI {
			t.Errorf("authorization %d: %+v; want client %s, S256, resource %s", i, a, testop.PublicClientID, m.resource)
		}
	}
	first, second := strings.Fields(report.Authorizations[0].Scope), strings.Fields(report.Authorizations[1].Scope)
	if !slices.Equal(first, []string{baseScope}) || !slices.Contains(second, baseScope) || !slices.Contains(second, stepUpScope) {
		t.Errorf("scopes asked: %q then %q; want %s, then both %s and %s", first, second, baseScope, baseScope, stepUpScope)
	}
	authorize, token := m.idp.RequestedResources()
	authorize, token = authorize[len(authorizeBefore):], token[len(tokenBefore):]
	for _, got := range [][]string{authorize, token} {
		if len(got) != 2 || got[0] != m.resource || got[1] != m.resource {
			t.Errorf("the OpenID provider received resource parameters %q (authorize %q, token %q), want %s twice each", got, authorize, token, m.resource)
		}
	}

	if len(report.Tokens) != 2 {
		t.Fatalf("%d tokens, want 2", len(report.Tokens))
	}
	for i, tok := range report.Tokens {
		var aud []string
		if err := json.Unmarshal(tok.Aud, &aud); err != nil {
			var one string
			if json.Unmarshal(tok.Aud, &one) == nil {
				aud = []string{one}
			}
		}
		if tok.Sub != testop.UserSubject || !slices.Contains(aud, m.resource) || tok.Signature == "" {
			t.Errorf("token %d: subject %q, audience %s, signature %q; want %s for %s, signed", i, tok.Sub, tok.Aud, tok.Signature, testop.UserSubject, m.resource)
		}
	}
	if !slices.Contains(strings.Fields(report.Tokens[1].Scope), stepUpScope) || slices.Contains(strings.Fields(report.Tokens[0].Scope), stepUpScope) {
		t.Errorf("token scopes %q then %q; only the second may carry %s", report.Tokens[0].Scope, report.Tokens[1].Scope, stepUpScope)
	}
}
