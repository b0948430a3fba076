package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticateCachedToken is what authentication adds to a request whose
// token was verified before: header parsing, a SHA-256 of the token and a cache lookup.
func BenchmarkAuthenticateCachedToken(b *testing.B) {
	v, tok := newSignedFixture(b)
	a, err := New(Settings{Mode: Mode{Configured: true, OAuth: true}, OAuth: v, Challenge: Challenge{Scopes: []string{"mcp:tools"}}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, r := a.Authenticate(req); r != nil {
		b.Fatal(r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, r := a.Authenticate(req); r != nil {
			b.Fatal(r)
		}
	}
}
