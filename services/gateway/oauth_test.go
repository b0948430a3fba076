package gateway_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

const (
	wantMetadata  = `resource_metadata="https://mesh.example.com/.well-known/oauth-protected-resource/mcp"`
	wantChallenge = `Bearer ` + wantMetadata + `, scope="mcp:tools"`
)

// Every class of bad credential gets its own status, challenge and body; the good ones
// next to them show that the checks do not refuse everything.
func TestOAuthBadInputs(t *testing.T) {
	iss := newTestIssuer(t)
	k1, k2 := newRSAKey(t, "k1"), newECKey(t, "k2")
	iss.publish(k1, k2)
	foreign := newRSAKey(t, "k1") // same kid, not the issuer's key
	h := newHarness(t, harnessOptions{inProcess: true, configure: oauthConfig(iss, false)})
	now := time.Now()
	good := goodClaims(iss.url(), now)
	withChanges := func(changes map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range good {
			c[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	tok := func(changes map[string]any) string { return sign(t, k1, withChanges(changes), "", "k1") }
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	payload := b64(mustJSON(t, good))
	pubDER, err := x509.MarshalPKIXPublicKey(&k1.key.(*rsa.PrivateKey).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hmacWithPublic := sign(t, signingKey{key: pubDER}, good, jose.HS256, "k1")
	valid := tok(nil)
	tampered := func() string {
		parts := strings.Split(valid, ".")
		parts[1] = b64(mustJSON(t, withChanges(map[string]any{"sub": "mallory"})))
		return strings.Join(parts, ".")
	}()

	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	tests := []struct {
		name       string
		path       string // default /mcp
		headers    map[string]string
		twoHeaders bool
		wantStatus int
		wantHeader string // the whole WWW-Authenticate value, or a prefix ending in "…"
		wantError  string // the body's error
	}{
		{name: "no header", headers: nil, wantStatus: 401, wantHeader: wantChallenge, wantError: "unauthorized"},
		{name: "basic scheme", headers: map[string]string{"Authorization": "Basic YWxpY2U6cHc="}, wantStatus: 401, wantHeader: wantChallenge, wantError: "unauthorized"},
		{name: "token scheme", headers: map[string]string{"Authorization": "Token " + valid}, wantStatus: 401, wantHeader: wantChallenge, wantError: "unauthorized"},
		{name: "scheme without token", headers: map[string]string{"Authorization": "Bearer"}, wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "empty token", headers: map[string]string{"Authorization": "Bearer "}, wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "two Authorization headers", headers: bearer(valid), twoHeaders: true, wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "token in the query", path: "/mcp?access_token=" + valid, headers: bearer(valid), wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "token in the query only", path: "/mcp?access_token=" + valid, wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "api key in the query", path: "/v1/tools?api_key=mcpm_x", wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "characters a token cannot have", headers: bearer("a,b;c"), wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "padding inside the token", headers: bearer("ab=cd"), wantStatus: 400, wantHeader: wantChallenge + `, error="invalid_request"…`, wantError: "invalid_request"},
		{name: "two-part JWT", headers: bearer("eyJhbGciOiJSUzI1NiJ9." + payload), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "four-part token", headers: bearer(valid + ".x"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "five-part JWE", headers: bearer("a.b.c.d.e"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "bad base64", headers: bearer("e~~~.e~~~.e~~~"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "header not JSON", headers: bearer(b64("not json") + "." + payload + ".c2ln"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "payload not JSON", headers: bearer(strings.Split(sign(t, k1, good, "", "k1"), ".")[0] + "." + b64("[1,2") + ".c2ln"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "alg none", headers: bearer(b64(`{"alg":"none","kid":"k1"}`) + "." + payload + "."), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "alg none with a signature", headers: bearer(b64(`{"alg":"none","kid":"k1"}`) + "." + payload + ".c2ln"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "HS256 signed with the public key", headers: bearer(hmacWithPublic), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "algorithm off the allow-list (RS512)", headers: bearer(sign(t, k1, good, jose.RS512, "k1")), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "algorithm other than the key's (PS256 with an RS256 key)", headers: bearer(sign(t, k1, good, jose.PS256, "k1")), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "unknown kid", headers: bearer(sign(t, k1, good, "", "k9")), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "no kid, several keys", headers: bearer(sign(t, k1, good, "", "")), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "foreign key under a known kid", headers: bearer(sign(t, foreign, good, "", "k1")), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "payload changed after signing", headers: bearer(tampered), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "signature of another token", headers: bearer(strings.Join(append(strings.Split(valid, ".")[:2], strings.Split(tok(map[string]any{"sub": "bob"}), ".")[2]), ".")), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "expired", headers: bearer(tok(map[string]any{"exp": now.Add(-time.Hour).Unix()})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token", error_description="the token has expired"`, wantError: "invalid_token"},
		{name: "not yet valid", headers: bearer(tok(map[string]any{"nbf": now.Add(time.Hour).Unix()})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token", error_description="the token is not valid yet"`, wantError: "invalid_token"},
		{name: "issued in the future", headers: bearer(tok(map[string]any{"iat": now.Add(time.Hour).Unix()})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "wrong issuer", headers: bearer(tok(map[string]any{"iss": "https://evil.example"})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "no issuer", headers: bearer(tok(map[string]any{"iss": nil})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "wrong audience", headers: bearer(tok(map[string]any{"aud": "https://other.example.com/mcp"})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "audience list without ours", headers: bearer(tok(map[string]any{"aud": []string{"https://a.example", "https://b.example"}})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "audience a prefix of ours", headers: bearer(tok(map[string]any{"aud": "https://mesh.example.com"})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "no audience", headers: bearer(tok(map[string]any{"aud": nil})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "no exp", headers: bearer(tok(map[string]any{"exp": nil})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token", error_description="the token has no expiry (exp)"`, wantError: "invalid_token"},
		{name: "no subject nor client", headers: bearer(tok(map[string]any{"sub": nil, "azp": nil})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "oversized", headers: bearer(tok(map[string]any{"pad": strings.Repeat("x", 9000)})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "API key where only OAuth is accepted", headers: bearer("mcpm_abcdefghijklmnop"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "opaque token without introspection", headers: bearer("opaque-token-value"), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "scope missing (step-up)", headers: bearer(tok(map[string]any{"scope": "math"})), wantStatus: 403,
			wantHeader: `Bearer ` + wantMetadata + `, scope="mcp:tools", error="insufficient_scope"…`, wantError: "insufficient_scope"},
		{name: "no scope at all", headers: bearer(tok(map[string]any{"scope": nil})), wantStatus: 403,
			wantHeader: `Bearer ` + wantMetadata + `, scope="mcp:tools", error="insufficient_scope"…`, wantError: "insufficient_scope"},
		{name: "refused on /v1 too", path: "/v1/tools", headers: bearer(tok(map[string]any{"exp": now.Add(-time.Hour).Unix()})), wantStatus: 401, wantHeader: wantChallenge + `, error="invalid_token"…`, wantError: "invalid_token"},
		{name: "refused on /sse too", path: "/sse", headers: nil, wantStatus: 401, wantHeader: wantChallenge, wantError: "unauthorized"},

		// Good ones.
		{name: "valid", headers: bearer(valid), wantStatus: 200},
		{name: "valid, EC key", headers: bearer(sign(t, k2, good, "", "k2")), wantStatus: 200},
		{name: "scheme in lower case", headers: map[string]string{"Authorization": "bearer " + valid}, wantStatus: 200},
		{name: "expired within the clock skew", headers: bearer(tok(map[string]any{"exp": now.Add(-10 * time.Second).Unix()})), wantStatus: 200},
		{name: "audience list with ours", headers: bearer(tok(map[string]any{"aud": []string{"https://a.example", testResource}})), wantStatus: 200},
		{name: "broader scope implies the required one", headers: bearer(tok(map[string]any{"scope": "mcp:admin"})), wantStatus: 200},
		{name: "scp list (Entra ID, Okta)", headers: bearer(tok(map[string]any{"scope": nil, "scp": []string{"mcp:tools"}})), wantStatus: 200},
		{name: "client credentials (no sub, azp)", headers: bearer(tok(map[string]any{"sub": nil})), wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/mcp"
			}
			method, body := http.MethodPost, rpc("json")
			if strings.HasPrefix(path, "/v1") || path == "/sse" {
				method, body = http.MethodGet, ""
			}
			req := h.request(method, path, body, mcpHeaders(tc.headers))
			if tc.twoHeaders {
				req.Header.Add("Authorization", "Bearer "+valid)
			}
			if tc.headers == nil {
				req.Header.Del("Authorization")
			}
			resp, got := h.do(req)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, got)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if tc.wantStatus == 200 {
				if challenge != "" {
					t.Errorf("a challenge on success: %s", challenge)
				}
				return
			}
			if prefix, ok := strings.CutSuffix(tc.wantHeader, "…"); ok {
				if !strings.HasPrefix(challenge, prefix) || !strings.Contains(challenge, `error_description="`) {
					t.Errorf("WWW-Authenticate %q, want it to start with %q and describe the error", challenge, prefix)
				}
			} else if challenge != tc.wantHeader {
				t.Errorf("WWW-Authenticate %q, want %q", challenge, tc.wantHeader)
			}
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(got, &e); err != nil || e.Error != tc.wantError || e.Description == "" {
				t.Errorf("body %s, want error %q with a description", got, tc.wantError)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
			}
			if strings.Contains(string(got), valid) {
				t.Error("the token is echoed in the answer")
			}
		})
	}

	// The principal of the valid token reached the transport.
	h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(bearer(valid))))
	p := h.transport.principal()
	if p == nil || p.Subject != "alice" || p.Issuer != iss.url() || p.ClientID != "cli" || p.Method != principal.MethodOAuth ||
		!p.HasScope("math") || p.Claims["department"] != "finance" {
		t.Fatalf("the transport saw %+v", p)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The RFC 9728 metadata is open (clients read it before they hold a token) and names
// what the challenges point at.
func TestProtectedResourceMetadata(t *testing.T) {
	iss := newTestIssuer(t)
	h := newHarness(t, harnessOptions{configure: oauthConfig(iss, true)})
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		resp, body := h.do(h.request(http.MethodGet, path, "", nil))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"resource": testResource, "authorization_servers": []any{iss.url()},
			"scopes_supported": []any{"mcp:tools"}, "bearer_methods_supported": []any{"header"}}
		if mustJSON(t, m) != mustJSON(t, want) {
			t.Errorf("%s: %s, want %s", path, body, mustJSON(t, want))
		}
	}
}

// Keys rotate without a restart: a token signed with a new key is accepted once the
// issuer publishes it, and unknown kids refetch the set at most once per interval.
func TestOAuthKeyRotationAndDiscovery(t *testing.T) {
	iss := newTestIssuer(t)
	old, next := newRSAKey(t, "old"), newECKey(t, "next")
	iss.publish(old)
	h := newHarness(t, harnessOptions{inProcess: true, configure: func(c *gateway.Config) {
		oauthConfig(iss, true)(c) // the JWKS found through discovery
		c.Auth.OAuth.JWKSRefreshInterval = time.Hour
	}})
	now := time.Now()
	call := func(tok string) int {
		resp, _ := h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(map[string]string{"Authorization": "Bearer " + tok})))
		return resp.StatusCode
	}
	if s := call(sign(t, old, goodClaims(iss.url(), now), "", "old")); s != 200 {
		t.Fatalf("old key: %d", s)
	}
	// Unknown kids: the first fetch is spent at start, so with an hour's interval no
	// made-up kid makes the gateway fetch again.
	before := iss.fetchCount()
	for i := range 5 {
		if s := call(sign(t, next, goodClaims(iss.url(), now), "", "made-up-"+string(rune('a'+i)))); s != 401 {
			t.Fatalf("made-up kid: %d", s)
		}
	}
	if got := iss.fetchCount(); got != before {
		t.Fatalf("made-up kids caused %d fetches within the interval", got-before)
	}

	// Rotation with a short interval: the new key is picked up on its first token.
	h2 := newHarness(t, harnessOptions{inProcess: true, configure: func(c *gateway.Config) {
		oauthConfig(iss, true)(c)
		c.Auth.OAuth.JWKSRefreshInterval = time.Millisecond
	}})
	call2 := func(tok string) int {
		resp, _ := h2.do(h2.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(map[string]string{"Authorization": "Bearer " + tok})))
		return resp.StatusCode
	}
	if s := call2(sign(t, old, goodClaims(iss.url(), now), "", "old")); s != 200 {
		t.Fatalf("old key: %d", s)
	}
	iss.publish(old, next)
	time.Sleep(5 * time.Millisecond) // past the refresh interval
	if s := call2(sign(t, next, goodClaims(iss.url(), now), "", "next")); s != 200 {
		t.Fatalf("rotated key: %d", s)
	}
	iss.publish(next) // the old key retired
	time.Sleep(5 * time.Millisecond)
	if s := call2(sign(t, next, with(goodClaims(iss.url(), now), "sub", "bob"), "", "next")); s != 200 {
		t.Fatalf("new key after retirement: %d", s)
	}
}

func with(c map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for key, val := range c {
		if key != k {
			out[key] = val
		}
	}
	return out
}
