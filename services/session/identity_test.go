package session

import (
	"testing"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// TestProvidersGetAnAssertionNotTheToken: each provider call carries a mesh-signed
// assertion for that provider (verifiable with the published keys), cached across calls
// of one principal, different for another principal; the principal's own metadata and
// any Authorization header never reach the provider.
func TestProvidersGetAnAssertionNotTheToken(t *testing.T) {
	keys, err := assertion.EphemeralKeys()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := assertion.NewSigner(keys, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	h := newAuthzHarness(t, PolicyConfig{}, func(d *Deps) { d.Assertions = signer })
	jwks, _ := assertion.ParseJWKS(keys.JWKS())
	verifier := &assertion.Verifier{Keys: jwks, Audience: "p"}

	seen := func(who *principal.Principal) string {
		t.Helper()
		ctx, _ := principal.AppendToOutgoing(as(t, who))
		if _, err := h.client.CallTool(ctx, &sessionv1.CallToolRequest{Name: "echo"}); err != nil {
			t.Fatal(err)
		}
		h.provider.mu.Lock()
		md := h.provider.lastMD
		h.provider.mu.Unlock()
		for _, k := range []string{"authorization", principal.MetadataKey} {
			if v := md.Get(k); len(v) > 0 {
				t.Errorf("the provider received %s: %q", k, v)
			}
		}
		toks := md.Get(assertion.MetadataKey)
		if len(toks) != 1 {
			t.Fatalf("%d assertions", len(toks))
		}
		c, err := verifier.Verify(t.Context(), toks[0])
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != who.Subject || c.PrincipalIssuer != who.Issuer {
			t.Fatalf("assertion for %s/%s, want %s/%s", c.PrincipalIssuer, c.Subject, who.Issuer, who.Subject)
		}
		return toks[0]
	}
	a1, a2, b := seen(alice), seen(alice), seen(bob)
	if a1 != a2 {
		t.Error("a second call of the same principal signed a new assertion instead of reusing it")
	}
	if b == a1 {
		t.Error("two principals share an assertion")
	}
	// Another provider audience is refused: an assertion for p cannot be replayed elsewhere.
	if _, err := (&assertion.Verifier{Keys: jwks, Audience: "down"}).Verify(t.Context(), a1); err == nil {
		t.Error("an assertion for p verifies for another provider")
	}
}
