package session

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

// auditLines reads the JSON lines of an audit file.
func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line is not JSON: %s", sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

// TestAuditLines: one line per call and per denial, field by field, arguments with the
// configured keys redacted; listings and other methods write none.
func TestAuditLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	h := newAuthzHarness(t, testRules, func(d *Deps) {
		d.Authorization.Audit.Enabled = true
		d.Authorization.Audit.Output = path
		d.Authorization.Audit.IncludeArguments = true
		d.Authorization.Audit.RedactKeys = []string{"Password"}
		d.Replica = "replica-7"
	})
	sess := h.initializeAs(t, alice)
	if _, err := h.handleAs(t, alice, stateful(sess, "tools/call", `{"name":"echo","arguments":{"q":"x","nested":{"password":"hunter2"}}}`)); err != nil {
		t.Fatal(err)
	}
	_, _ = h.client.CallTool(as(t, bob), &sessionv1.CallToolRequest{Name: "echo", Arguments: []byte(`{"password":"p"}`)})
	_, _ = h.client.GetPrompt(as(t, alice), &sessionv1.GetPromptRequest{Name: "greet", Arguments: map[string]string{"who": "mallory"}})
	_, _ = h.client.ReadResource(as(t, alice), &sessionv1.ReadResourceRequest{Uri: "mem://missing-at-provider"})
	// Not audited: listings, and a completion that is allowed; a refused one is.
	_, _ = h.handleAs(t, alice, stateful(sess, "tools/list", `{}`))
	_, _ = h.handleAs(t, alice, stateful(sess, "completion/complete", `{"ref":{"type":"ref/resource","uri":"mem://a"},"argument":{"name":"x","value":""}}`))
	_, _ = h.handleAs(t, bob, stateless("completion/complete", `{`+statelessMeta+`,"ref":{"type":"ref/resource","uri":"mem://a"},"argument":{"name":"x","value":""}}`))

	lines := auditLines(t, path)
	want := []map[string]any{
		{"msg": "audit", "level": "INFO", "method": "tools/call", "principal.subject": "alice", "principal.issuer": "https://idp.example",
			"principal.method": "oauth", "client_id": "ide", "capability.kind": "tool", "capability.name": "echo", "provider": "p",
			"outcome": "ok", "replica": "replica-7", "session_id": sess.GetId(),
			"arguments": map[string]any{"q": "x", "nested": map[string]any{"password": "[REDACTED]"}}},
		{"method": "tools/call", "principal.subject": "bob", "client_id": "", "capability.name": "echo", "provider": "p",
			"outcome": "insufficient_scope", "rule": "echo", "required_scopes": "math", "arguments": map[string]any{"password": "[REDACTED]"}},
		{"method": "prompts/get", "principal.subject": "alice", "capability.kind": "prompt", "capability.name": "greet",
			"outcome": "denied", "rule": "greet", "arguments": map[string]any{"who": "mallory"}},
		{"method": "resources/read", "capability.kind": "resource", "capability.name": "mem://missing-at-provider",
			"outcome": "error", "code": float64(-32602)}, // the stateless generation has no -32002,
		{"method": "completion/complete", "principal.subject": "bob", "outcome": "insufficient_scope", "required_scopes": "files"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d audit lines, want %d:\n%v", len(lines), len(want), lines)
	}
	for i, w := range want {
		for k, v := range w {
			got, _ := json.Marshal(lines[i][k])
			exp, _ := json.Marshal(v)
			if string(got) != string(exp) {
				t.Errorf("line %d %s = %s, want %s", i, k, got, exp)
			}
		}
		if _, ok := lines[i]["duration_ms"].(float64); !ok {
			t.Errorf("line %d has no duration_ms", i)
		}
	}
	if _, ok := lines[1]["session_id"]; ok {
		t.Error("a stateless call names a session")
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, want 0600", info.Mode().Perm())
	}
}

// TestAuditWithoutArguments: arguments stay out unless configured.
func TestAuditWithoutArguments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	h := newAuthzHarness(t, PolicyConfig{}, func(d *Deps) {
		d.Authorization.Audit.Enabled = true
		d.Authorization.Audit.Output = path
	})
	if _, err := h.client.CallTool(as(t, alice), &sessionv1.CallToolRequest{Name: "echo", Arguments: []byte(`{"q":"secret"}`)}); err != nil {
		t.Fatal(err)
	}
	lines := auditLines(t, path)
	if len(lines) != 1 || lines[0]["outcome"] != "ok" {
		t.Fatalf("lines %v", lines)
	}
	if _, ok := lines[0]["arguments"]; ok {
		t.Fatal("arguments written without include_arguments")
	}
}
