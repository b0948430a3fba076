package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

var (
	alice = &principal.Principal{Subject: "alice", Issuer: "https://idp.example", ClientID: "ide", Method: principal.MethodOAuth,
		Scopes: []string{"math", "mcp:tools"}, Claims: map[string]any{"department": "finance", "level": float64(3)}}
	bob = &principal.Principal{Subject: "bob", Issuer: "https://idp.example", Method: principal.MethodOAuth,
		Scopes: []string{"mcp:tools"}, Claims: map[string]any{"department": "sales"}}
)

func tool(name string) Capability {
	return Capability{Kind: KindTool, Name: name, Provider: "everything"}
}

func TestDecide(t *testing.T) {
	rules := []Rule{
		{Name: "math", Tools: []string{"add", "admin-*"}, RequireScopes: []string{"math"}, Allow: `principal.claims.department == "finance"`},
		{Name: "big sums", Tools: []string{"add"}, Allow: `!has(arguments.a) || arguments.a < 1000`},
		{Name: "echo", Tools: []string{"echo"}},
		{Name: "files", Resources: []string{"file:///public/*"}},
		{Name: "secret files", Resources: []string{"file:///secret/*"}, RequireScopes: []string{"secrets", "files"}},
		{Name: "prompts by client", Prompts: []string{"*"}, Allow: `principal.client_id == "ide"`},
		{Name: "provider", Tools: []string{"from-*"}, Allow: `capability.provider == "trusted" && capability.kind == "tool"`},
		{Name: "optional claim", Tools: []string{"team"}, Allow: `principal.claims.?team.orValue("") == "core"`},
		{Name: "claim must exist", Tools: []string{"strict"}, Allow: `principal.claims.team == "core"`},
	}
	for _, tc := range []struct {
		name       string
		cfg        Config
		who        *principal.Principal
		c          Capability
		args       string
		want       Outcome
		wantScopes []string
		wantRule   string
	}{
		{name: "scope and claim", who: alice, c: tool("add"), args: `{"a":1,"b":2}`, want: Allowed},
		{name: "glob", who: alice, c: tool("admin-reset"), want: Allowed},
		{name: "glob is anchored", who: bob, c: tool("not-admin-reset"), want: Denied, wantRule: "default"},
		{name: "missing scope", who: bob, c: tool("add"), want: MissingScopes, wantScopes: []string{"math"}, wantRule: "math"},
		{name: "every required scope in one answer", who: bob, c: Capability{Kind: KindResource, Name: "file:///secret/x"},
			want: MissingScopes, wantScopes: []string{"secrets", "files"}},
		{name: "claim condition false", who: &principal.Principal{Subject: "carol", Method: principal.MethodOAuth, Scopes: []string{"math"},
			Claims: map[string]any{"department": "sales"}}, c: tool("add"), want: Denied, wantRule: "math"},
		{name: "argument condition false", who: alice, c: tool("add"), args: `{"a":5000,"b":1}`, want: Denied, wantRule: "big sums"},
		{name: "argument absent passes has()", who: alice, c: tool("add"), args: `{}`, want: Allowed},
		{name: "arguments not an object fail closed", who: alice, c: tool("add"), args: `[1]`, want: Allowed},
		{name: "rule without condition", who: bob, c: tool("echo"), want: Allowed},
		{name: "resource glob crosses slashes", who: nil, c: Capability{Kind: KindResource, Name: "file:///public/a/b.txt"}, want: Allowed},
		{name: "tool pattern does not cover resources", who: alice, c: Capability{Kind: KindResource, Name: "add"}, want: Denied, wantRule: "default"},
		{name: "prompt by client id", who: alice, c: Capability{Kind: KindPrompt, Name: "greet"}, want: Allowed},
		{name: "prompt other client", who: bob, c: Capability{Kind: KindPrompt, Name: "greet"}, want: Denied},
		{name: "provider condition", who: bob, c: Capability{Kind: KindTool, Name: "from-x", Provider: "trusted"}, want: Allowed},
		{name: "provider condition other", who: bob, c: Capability{Kind: KindTool, Name: "from-x", Provider: "rogue"}, want: Denied},
		{name: "unknown name decided like a known one", who: bob, c: Capability{Kind: KindTool, Name: "from-x"}, want: Denied},
		{name: "optional claim absent", who: bob, c: tool("team"), want: Denied},
		{name: "missing claim fails closed", who: bob, c: tool("strict"), want: Denied, wantRule: "claim must exist"},
		{name: "anonymous has no scopes", who: nil, c: tool("add"), want: MissingScopes, wantScopes: []string{"math"}},
		{name: "default deny with rules", who: alice, c: tool("unlisted"), want: Denied, wantRule: "default"},
		{name: "explicit default allow", cfg: Config{Rules: rules, Default: DefaultAllow}, who: bob, c: tool("unlisted"), want: Allowed, wantRule: "default"},
		{name: "no rules allow everything", cfg: Config{}, who: nil, c: tool("anything"), want: Allowed},
		{name: "no rules explicit deny", cfg: Config{Default: DefaultDeny}, who: alice, c: tool("anything"), want: Denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Rules == nil && cfg.Default == "" && !strings.HasPrefix(tc.name, "no rules") {
				cfg.Rules = rules
			}
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			d := p.Decide(tc.who, tc.c, []byte(tc.args))
			if d.Outcome != tc.want {
				t.Fatalf("outcome %s (rule %s), want %s", d.Outcome, d.Rule, tc.want)
			}
			if tc.wantScopes != nil && !slices.Equal(d.Scopes, tc.wantScopes) {
				t.Errorf("scopes %v, want %v", d.Scopes, tc.wantScopes)
			}
			if tc.wantRule != "" && d.Rule != tc.wantRule {
				t.Errorf("rule %q, want %q", d.Rule, tc.wantRule)
			}
		})
	}
}

func TestDecideListing(t *testing.T) {
	p, err := New(Config{Rules: []Rule{
		{Name: "finance", Tools: []string{"add"}, Allow: `principal.claims.department == "finance"`},
		{Name: "args", Tools: []string{"add", "sub"}, Allow: `arguments.a < 1000`},
		{Name: "args and claim", Tools: []string{"mul"}, Allow: `principal.claims.department == "finance" && arguments.a < 10`},
		{Name: "scoped", Tools: []string{"div"}, RequireScopes: []string{"math"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who  *principal.Principal
		name string
		want Outcome
	}{
		{alice, "add", Undecided}, // the claim passes, the argument part waits for the call
		{bob, "add", Denied},      // the claim fails whatever the arguments
		{bob, "sub", Undecided},
		{alice, "mul", Undecided},
		{bob, "mul", Denied}, // the known half of the && already fails
		{alice, "div", Allowed},
		{bob, "div", MissingScopes},
		{bob, "other", Denied},
	} {
		if got := p.DecideListing(tc.who, tool(tc.name)).Outcome; got != tc.want {
			t.Errorf("%s lists %s: %s, want %s", tc.who.Subject, tc.name, got, tc.want)
		}
	}
}

func TestNewReportsEveryProblemByRule(t *testing.T) {
	_, err := New(Config{Default: "maybe", Rules: []Rule{
		{Name: "ok", Tools: []string{"x"}},
		{Name: "syntax", Tools: []string{"x"}, Allow: `principal.claims.department ==`},
		{Tools: []string{"x"}, Allow: `principal.subject`},
		{Name: "nothing"},
		{Name: "empty pattern", Prompts: []string{""}},
		{Name: "bad scope", Tools: []string{"x"}, RequireScopes: []string{"a b"}},
		{Name: "unknown variable", Tools: []string{"x"}, Allow: `request.user == "x"`},
	}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`auth.policy.default: "maybe"`,
		"auth.policy.rules[1] (syntax).allow:",
		"auth.policy.rules[2].allow: must be a boolean expression",
		"auth.policy.rules[3] (nothing): names no tools",
		"auth.policy.rules[4] (empty pattern).prompts: empty pattern",
		`auth.policy.rules[5] (bad scope).require_scopes: "a b"`,
		"auth.policy.rules[6] (unknown variable).allow:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "(ok)") {
		t.Errorf("a good rule is reported:\n%v", err)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"add", "add", true}, {"add", "adder", false}, {"*", "", true}, {"*", "x/y", true},
		{"admin-*", "admin-", true}, {"admin-*", "admin-x", true}, {"admin-*", "xadmin-x", false},
		{"*-admin", "a-admin", true}, {"a*b*c", "abc", true}, {"a*b*c", "aXbYbZc", true}, {"a*b*c", "acb", false},
		{"a*a", "a", false}, {"file:///*.txt", "file:///a/b.txt", true}, {"?", "?", true}, {"?", "x", false},
	} {
		g, err := compileGlob(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.match(tc.name); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestCostLimitDenies(t *testing.T) {
	p, err := New(Config{Rules: []Rule{{Tools: []string{"x"}, Allow: `arguments.items.all(i, arguments.items.all(j, i != j || i == j))`}}})
	if err != nil {
		t.Fatal(err)
	}
	items := strings.Repeat("1,", 2000) + "1"
	if d := p.Decide(alice, tool("x"), []byte(`{"items":[`+items+`]}`)); d.Outcome != Denied {
		t.Fatalf("a condition over the cost limit gave %s", d.Outcome)
	}
	if d := p.Decide(alice, tool("x"), []byte(`{"items":[1,2]}`)); d.Outcome != Allowed {
		t.Fatalf("a cheap evaluation gave %s", d.Outcome)
	}
}
