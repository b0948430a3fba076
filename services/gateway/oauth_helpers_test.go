package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpmesh/mcpmesh/services/gateway"
)

const testResource = "https://mesh.example.com/mcp"

// testIssuer is an authorization server's key publication: a JWKS (and a discovery
// document) over real HTTP, whose keys the test can rotate.
type testIssuer struct {
	server  *httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey // public keys served
	fetches int
}

type signingKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key any // private key
}

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	iss := &testIssuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		iss.mu.Lock()
		defer iss.mu.Unlock()
		iss.fetches++
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: iss.keys})
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss.server.URL, "jwks_uri": iss.server.URL + "/jwks"})
	})
	iss.server = httptest.NewServer(mux)
	t.Cleanup(iss.server.Close)
	return iss
}

func (i *testIssuer) url() string { return i.server.URL }

// publish serves the public halves of keys (replacing what was served).
func (i *testIssuer) publish(keys ...signingKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = nil
	for _, k := range keys {
		var pub any
		switch pk := k.key.(type) {
		case *rsa.PrivateKey:
			pub = &pk.PublicKey
		case *ecdsa.PrivateKey:
			pub = &pk.PublicKey
		}
		i.keys = append(i.keys, jose.JSONWebKey{Key: pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
}

func (i *testIssuer) fetchCount() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.fetches
}

func newRSAKey(t testing.TB, kid string) signingKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.RS256, key: k}
}

func newECKey(t testing.TB, kid string) signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.ES256, key: k}
}

// sign makes a compact JWS of claims with k (alg overrides k.alg when set; an empty
// kid leaves the header without one).
func sign(t testing.TB, k signingKey, claims map[string]any, alg jose.SignatureAlgorithm, kid string) string {
	t.Helper()
	if alg == "" {
		alg = k.alg
	}
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// goodClaims are valid claims for iss, now.
func goodClaims(iss string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "alice", "aud": testResource, "azp": "cli",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(),
		"scope": "mcp:tools math", "department": "finance",
	}
}

// oauthConfig turns OAuth on against iss.
func oauthConfig(iss *testIssuer, discover bool) func(*gateway.Config) {
	return func(c *gateway.Config) {
		c.Auth.Mode = "oauth"
		c.Auth.OAuth.Issuer = iss.url()
		if !discover {
			c.Auth.OAuth.JWKSURL = iss.url() + "/jwks"
		}
		c.Auth.OAuth.Resource = testResource
		c.Auth.OAuth.Scopes = []string{"mcp:tools"}
		c.Auth.OAuth.ScopeImplies = map[string][]string{"mcp:admin": {"mcp:tools"}}
	}
}
