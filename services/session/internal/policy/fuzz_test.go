package policy

import (
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// FuzzDecide feeds arbitrary names, arguments and claims to a rule set with conditions
// over each: a decision never panics, and a principal short of the required scope is
// never allowed whatever else it sends.
func FuzzDecide(f *testing.F) {
	p, err := New(Config{Rules: []Rule{
		{Tools: []string{"a*"}, RequireScopes: []string{"s"}, Allow: `principal.claims.d == "x" && arguments.n < 10`},
		{Tools: []string{"*b"}, Allow: `arguments.?list.orValue([]).size() < 3 && capability.name.startsWith("a")`},
		{Resources: []string{"*"}, Allow: `principal.subject != ""`},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("add", `{"n":1}`, "x", true)
	f.Add("ab", `{"list":[1,2,3]}`, "y", false)
	f.Add("a", `[`, "", true)
	f.Add("", `{"n":"str"}`, "x", true)
	f.Fuzz(func(t *testing.T, name, args, claim string, scoped bool) {
		who := &principal.Principal{Subject: "f", Method: principal.MethodOAuth, Claims: map[string]any{"d": claim}}
		if scoped {
			who.Scopes = []string{"s"}
		}
		for _, k := range []Kind{KindTool, KindResource, KindPrompt} {
			c := Capability{Kind: k, Name: name}
			d := p.Decide(who, c, []byte(args))
			if k == KindTool && !scoped && len(name) > 0 && name[0] == 'a' && d.Outcome == Allowed {
				t.Fatalf("%q allowed without the scope", name)
			}
			_ = p.DecideListing(who, c)
		}
	})
}
