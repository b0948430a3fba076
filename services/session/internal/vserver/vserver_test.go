package vserver

import (
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
)

// TestVirtualServerSelection: a view selects by the patterns of each kind, a kind
// without patterns selects nothing, a name that is not configured selects nothing at
// all, and no name is the whole mesh (no view).
func TestVirtualServerSelection(t *testing.T) {
	set, err := New([]Config{
		{Name: "finance", Tools: []string{"add", "billing__*"}, Resources: []string{"file:///reports/*"},
			Policy: policy.Config{Rules: []policy.Rule{{Tools: []string{"billing__*"}, RequireScopes: []string{"treasury"}}}, Default: "allow"}},
		{Name: "prompts-only", Prompts: []string{"*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	finance := set.View("finance")
	for _, tc := range []struct {
		view *View
		kind policy.Kind
		name string
		want bool
	}{
		{finance, policy.KindTool, "add", true},
		{finance, policy.KindTool, "billing__payout", true},
		{finance, policy.KindTool, "billing", false},
		{finance, policy.KindTool, "adder", false},
		{finance, policy.KindResource, "file:///reports/2026/q1.csv", true},
		{finance, policy.KindResource, "file:///etc/passwd", false},
		{finance, policy.KindPrompt, "add", false},
		{set.View("prompts-only"), policy.KindPrompt, "anything", true},
		{set.View("prompts-only"), policy.KindTool, "add", false},
		{set.View("unknown"), policy.KindTool, "add", false},
		{set.View("unknown"), policy.KindPrompt, "anything", false},
	} {
		if got := tc.view.Selects(tc.kind, tc.name); got != tc.want {
			t.Errorf("%s selects %s %q: %v, want %v", tc.view.Name(), tc.kind, tc.name, got, tc.want)
		}
	}
	if set.View("") != nil {
		t.Error("no name must be the whole mesh (nil view)")
	}
	if got := strings.Join(set.Names(), ","); got != "finance,prompts-only" {
		t.Errorf("names %s", got)
	}
	// The virtual server's rules are its own.
	alice := &principal.Principal{Subject: "alice", Method: principal.MethodOAuth}
	if d := finance.Policy().Decide(alice, policy.Capability{Kind: policy.KindTool, Name: "billing__payout"}, nil); d.Outcome != policy.MissingScopes {
		t.Errorf("billing__payout without treasury: %v", d.Outcome)
	}
	if d := finance.Policy().Decide(alice, policy.Capability{Kind: policy.KindTool, Name: "add"}, nil); d.Outcome != policy.Allowed {
		t.Errorf("add: %v", d.Outcome)
	}
}

// Every problem of the section is reported at once, each naming its entry and key.
func TestVirtualServerConfigProblems(t *testing.T) {
	_, err := New([]Config{
		{Name: "Bad Name", Tools: []string{"*"}},
		{Name: "ok", Tools: []string{"*"}},
		{Name: "ok", Tools: []string{"*"}},
		{Name: "empty"},
		{Name: "pattern", Tools: []string{""}},
		{Name: "rule", Tools: []string{"*"}, Policy: policy.Config{Rules: []policy.Rule{{Tools: []string{"*"}, Allow: "1 +"}}}},
		{Tools: []string{"*"}},
	})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{
		`virtual_servers[0] (Bad Name).name: name "Bad Name" may hold only`,
		`virtual_servers[2] (ok).name: "ok" is the name of an earlier virtual server`,
		`virtual_servers[3] (empty): selects no tools, resources or prompts`,
		`virtual_servers[4] (pattern).tools: empty pattern`,
		`virtual_servers[5] (rule).policy.rules[0].allow:`,
		`virtual_servers[6].name: name is empty`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
