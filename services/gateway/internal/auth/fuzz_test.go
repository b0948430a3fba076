package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Any Authorization value either yields a token of RFC 6750's syntax within the size
// limit, or a refusal with a status and a description; never a panic.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"", "Bearer", "Bearer ", "Bearer abc", "bearer a.b.c", "Basic x", "Bearer a b", "Bearer ab==", "Bearer =",
		"Bearer mcpm_x", "Bearer \x00", "BEARER  tok", strings.Repeat("A", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c := parseAuthorization(v, 256)
		if c.refusal != nil {
			if c.token != "" || c.refusal.Status < 400 || c.refusal.Description == "" {
				t.Fatalf("%q: bad refusal %+v with token %q", v, c.refusal, c.token)
			}
			return
		}
		if !isB64Token(c.token) || len(c.token) > 256 {
			t.Fatalf("%q: accepted token %q", v, c.token)
		}
	})
}

// Any token either verifies (only the one properly signed seed can) or is refused with
// a *Refusal; never a panic, never an internal error.
func FuzzVerifyToken(f *testing.F) {
	v, good := newSignedFixture(f)
	for _, s := range []string{good, "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x", good[:len(good)-2], strings.Replace(good, ".", "..", 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(context.Background(), tok)
		if err == nil {
			if tok != good || p.Subject != "a" {
				t.Fatalf("%q verified as %+v", tok, p)
			}
			return
		}
		if !isRefusal(err) {
			t.Fatalf("%q: %v is not a refusal", tok, err)
		}
	})
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// newSignedFixture is a verifier for https://idp.example (ES256 keys served from a JWKS
// on loopback) and a valid token for it.
func newSignedFixture(tb testing.TB) (*OAuthVerifier, string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}})
	}))
	tb.Cleanup(jwks.Close)
	v, err := NewOAuthVerifier(OAuthSettings{Issuer: "https://idp.example", JWKSURL: jwks.URL, Resource: "https://mesh.example/mcp",
		Algorithms: []string{"ES256", "RS256"}, ClockSkew: time.Second, JWKSRefreshInterval: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	if err != nil {
		tb.Fatal(err)
	}
	payload := `{"iss":"https://idp.example","aud":"https://mesh.example/mcp","sub":"a","scope":"mcp:tools","exp":` +
		jsonInt(time.Now().Add(time.Hour).Unix()) + `}`
	jws, err := signer.Sign([]byte(payload))
	if err != nil {
		tb.Fatal(err)
	}
	good, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return v, good
}
