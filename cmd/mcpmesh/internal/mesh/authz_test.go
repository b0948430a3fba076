package mesh

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// TestPolicyThroughTheMesh runs the whole mesh in one process with rules on the
// everything provider's tools and calls them as two principals put into the context
// (what the gateway does once it has authenticated a caller): the session service
// refuses with the step-up or policy reason, the audit file has a line for each call,
// the rules reload without a restart, and the gateway publishes the keys that verify
// the providers' assertions.
func TestPolicyThroughTheMesh(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.log")
	cfg := allInOne(t)
	cfg.Auth.Policy = session.PolicyConfig{Default: "allow", Rules: []session.PolicyRule{
		{Name: "math", Tools: []string{"add"}, RequireScopes: []string{"math"}, Allow: `principal.claims.department == "finance"`},
	}}
	cfg.Auth.Audit.Enabled = true
	cfg.Auth.Audit.Output = auditFile
	m, base := startMesh(t, cfg)

	alice := &principal.Principal{Subject: "alice", Issuer: "https://idp.example", Method: principal.MethodOAuth,
		Scopes: []string{"math"}, Claims: map[string]any{"department": "finance"}}
	bob := &principal.Principal{Subject: "bob", Issuer: "https://idp.example", Method: principal.MethodOAuth,
		Scopes: []string{"math"}, Claims: map[string]any{"department": "sales"}}
	carol := &principal.Principal{Subject: "carol", Issuer: "https://idp.example", Method: principal.MethodOAuth}
	add := func(p *principal.Principal) error {
		_, err := m.clients.session.CallTool(principal.NewContext(t.Context(), p),
			&sessionv1.CallToolRequest{Name: "add", Arguments: []byte(`{"a":1,"b":2}`)})
		return err
	}
	reason := func(err error) string {
		st := status.Convert(err)
		if st.Code() != codes.PermissionDenied {
			t.Fatalf("status %v %q, want PermissionDenied", st.Code(), st.Message())
		}
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == "mcpmesh.dev" {
				return info.GetReason() + " " + info.GetMetadata()["scopes"]
			}
		}
		t.Fatalf("no ErrorInfo: %v", st.Details())
		return ""
	}
	// Ready means a catalogue arrived, not yet the everything provider's tools in it.
	eventually.NoError(t, 10*time.Second, func() error { return add(alice) }, "alice calls add")
	if r := reason(add(bob)); r != "POLICY_DENIED " {
		t.Errorf("bob: %q", r)
	}
	if r := reason(add(carol)); r != "INSUFFICIENT_SCOPE math" {
		t.Errorf("carol: %q", r)
	}

	// The rules change without a restart.
	if err := m.ReloadPolicy(session.PolicyConfig{Default: "allow"}); err != nil {
		t.Fatal(err)
	}
	if err := add(bob); err != nil {
		t.Fatalf("bob after the reload: %v", err)
	}

	f, err := os.Open(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var outcomes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if line["capability.name"] != "add" {
			t.Errorf("audit line %v", line)
		}
		if line["outcome"] == "error" {
			continue // a call made before the tool was routed ("Unknown tool")
		}
		if line["provider"] != "everything" {
			t.Errorf("audit line %v", line)
		}
		outcomes = append(outcomes, line["principal.subject"].(string)+":"+line["outcome"].(string))
	}
	want := []string{"alice:ok", "bob:denied", "carol:insufficient_scope", "bob:ok"}
	if len(outcomes) != len(want) {
		t.Fatalf("audit outcomes %v, want %v", outcomes, want)
	}
	for i := range want {
		if outcomes[i] != want[i] {
			t.Errorf("audit outcomes %v, want %v", outcomes, want)
		}
	}

	// The single-process mesh generated its signing key and its gateway publishes it.
	resp, err := http.Get(base + assertion.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: %d %v", resp.StatusCode, err)
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kid != m.assertionKeys.Current().SigningKeyID() || jwks.Keys[0].D != "" {
		t.Fatalf("JWKS %+v", jwks)
	}
}

// TestPolicyDenialsOverMCP: the session's refusals reach an MCP client as the gateway
// answers them, in both generations: missing scopes as 403 with an insufficient_scope
// challenge naming them (step-up), a refused condition as JSON-RPC -32003. The mesh
// runs without authentication, so every caller is the anonymous principal, which holds
// no scope and no claim.
func TestPolicyDenialsOverMCP(t *testing.T) {
	cfg := allInOne(t)
	cfg.Auth.Policy = session.PolicyConfig{Default: "allow", Rules: []session.PolicyRule{
		{Name: "math", Tools: []string{"add"}, RequireScopes: []string{"math", "calc"}},
		{Name: "echo-for-alice", Tools: []string{"echo"}, Allow: `principal.subject == "alice"`},
	}}
	_, base := startMesh(t, cfg)
	// Listings show only what the caller may use, over REST as over MCP.
	eventually.NoError(t, 10*time.Second, func() error {
		// Before the first catalogue the listing is empty ({}): read it without failing.
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
	for surface, names := range map[string][]string{
		"REST": listREST(t, base, "/v1/tools", "tools", "name"),
		"MCP":  listMCP(t, base, "tools/list", "tools", "name"),
	} {
		if slices.Contains(names, "add") || slices.Contains(names, "echo") {
			t.Errorf("%s listing shows tools the anonymous caller may not use: %v", surface, names)
		}
	}
	stateful := initializeSession(t, base)
	stateless := map[string]string{"MCP-Protocol-Version": "2026-07-28"}
	for name, sessionHeaders := range map[string]map[string]string{"2026-07-28": stateless, "2025-11-25": stateful} {
		t.Run(name, func(t *testing.T) {
			// Policy decides before the name is looked up: no need to wait for the routes.
			body, headers := toolCallRequest(sessionHeaders, "add", `{"a":1,"b":2}`)
			resp, _ := post(t, base+"/mcp", body, headers)
			challenge := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(challenge, `error="insufficient_scope"`) ||
				!strings.Contains(challenge, `scope="math calc"`) {
				t.Fatalf("add without scopes: %d %q, want 403 with an insufficient_scope challenge for math calc", resp.StatusCode, challenge)
			}
			if status, code, _ := callMCP(t, base, sessionHeaders, "echo", `{"message":"hi"}`); code != -32003 {
				t.Fatalf("echo refused by a condition: HTTP %d, JSON-RPC %d; want -32003", status, code)
			}
		})
	}
}
