package policy

import "testing"

// BenchmarkDecide measures a decision on the hot path: scopes only, a claim condition,
// and a condition over the arguments (which parses them).
func BenchmarkDecide(b *testing.B) {
	p, err := New(Config{Rules: []Rule{
		{Tools: []string{"*"}, RequireScopes: []string{"mcp:tools"}},
		{Tools: []string{"add", "admin-*"}, RequireScopes: []string{"math"}, Allow: `principal.claims.department == "finance"`},
		{Tools: []string{"sum"}, Allow: `arguments.a < 1000`},
	}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		tool string
		args []byte
	}{
		{"scopes", "echo", nil},
		{"claim", "add", []byte(`{"a":1,"b":2}`)},
		{"arguments", "sum", []byte(`{"a":1,"b":2}`)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := tool(bc.tool)
			b.ReportAllocs()
			for b.Loop() {
				if d := p.Decide(alice, c, bc.args); d.Outcome != Allowed {
					b.Fatal(d.Outcome)
				}
			}
		})
	}
}
