package identity

import (
	"context"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

func attacher(t testing.TB) *Attacher {
	keys, err := assertion.EphemeralKeys()
	if err != nil {
		t.Fatal(err)
	}
	s, err := assertion.NewSigner(keys, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return New(s)
}

// TestCacheRenewsBeforeExpiry: an assertion is reused until a third of its life is left,
// then replaced; scopes are part of the key.
func TestCacheRenewsBeforeExpiry(t *testing.T) {
	a := attacher(t)
	now := time.Now()
	a.now = func() time.Time { return now }
	p := &principal.Principal{Subject: "alice", Issuer: "i", Method: principal.MethodOAuth, Scopes: []string{"a"}}
	ctx := principal.NewContext(context.Background(), p)
	first, _ := a.Assertion(ctx, "prov")
	now = now.Add(30 * time.Second)
	if again, _ := a.Assertion(ctx, "prov"); again != first {
		t.Fatal("renewed with two thirds of its life left")
	}
	if other, _ := a.Assertion(ctx, "other"); other == first {
		t.Fatal("one assertion for two providers")
	}
	wider := principal.NewContext(context.Background(), &principal.Principal{Subject: "alice", Issuer: "i", Method: principal.MethodOAuth, Scopes: []string{"a", "b"}})
	if w, _ := a.Assertion(wider, "prov"); w == first {
		t.Fatal("a principal with more scopes got the cached assertion")
	}
	now = now.Add(11 * time.Second) // 41 s after signing: less than a third of 60 s left
	if renewed, _ := a.Assertion(ctx, "prov"); renewed == first {
		t.Fatal("not renewed near expiry")
	}
}

// BenchmarkAssertion: the hot path (a cached assertion) against signing each time.
func BenchmarkAssertion(b *testing.B) {
	a := attacher(b)
	ctx := principal.NewContext(context.Background(), &principal.Principal{Subject: "alice", Issuer: "https://idp.example",
		ClientID: "ide", Method: principal.MethodOAuth, Scopes: []string{"math", "mcp:tools"}})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Assertion(ctx, "everything"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign", func(b *testing.B) {
		b.ReportAllocs()
		p, _ := principal.FromContext(ctx)
		for b.Loop() {
			if _, _, err := a.signer.Sign(p, "everything"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
