package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// BenchmarkAuthenticateCachedToken is what authentication adds to a request whose
// token was verified before: header parsing, a SHA-256 of the token and a cache lookup.
func BenchmarkAuthenticateCachedToken(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}})
	}))
	defer jwks.Close()
	v, err := NewOAuthVerifier(OAuthSettings{Issuer: "https://idp.example", JWKSURL: jwks.URL, Resource: "https://mesh.example/mcp",
		Algorithms: []string{"ES256"}, ClockSkew: time.Second, JWKSRefreshInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(Settings{Mode: Mode{Configured: true, OAuth: true}, OAuth: v, Challenge: Challenge{Scopes: []string{"mcp:tools"}}})
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	claims, _ := json.Marshal(map[string]any{"iss": "https://idp.example", "aud": "https://mesh.example/mcp", "sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(), "scope": "mcp:tools", "email": "alice@example.com", "department": "finance"})
	jws, _ := signer.Sign(claims)
	tok, _ := jws.CompactSerialize()
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
