package gateway_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// TestAssertionKeys: the gateway serves the JWKS it is given, and a provider can verify
// an assertion with what it fetched from there; without keys the route is absent.
func TestAssertionKeys(t *testing.T) {
	keys, err := assertion.EphemeralKeys()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{jwks: keys})
	resp, body := h.do(h.request(http.MethodGet, assertion.JWKSPath, "", nil))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" || string(body) != string(keys.JWKS()) {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	signer, err := assertion.NewSigner(keys, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := signer.Sign(&principal.Principal{Subject: "alice", Issuer: "i", Method: principal.MethodOAuth}, "everything")
	if err != nil {
		t.Fatal(err)
	}
	v := &assertion.Verifier{Keys: &assertion.RemoteKeys{URL: h.server.URL + assertion.JWKSPath, Client: h.client}, Audience: "everything"}
	if c, err := v.Verify(context.Background(), tok); err != nil || c.Subject != "alice" {
		t.Fatalf("verify with the served keys: %+v %v", c, err)
	}

	without := newHarness(t, harnessOptions{})
	if resp, _ := without.do(without.request(http.MethodGet, assertion.JWKSPath, "", nil)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("without keys: %d", resp.StatusCode)
	}
}
