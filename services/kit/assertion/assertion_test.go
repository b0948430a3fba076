package assertion

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

var alice = &principal.Principal{Subject: "alice", Issuer: "https://idp.example", ClientID: "ide",
	Scopes: []string{"math", "mcp:tools"}, Method: principal.MethodOAuth}

// keyFile writes a PKCS#8 PEM key (Ed25519, or ECDSA P-256 when ec is set).
func keyFile(t *testing.T, ec bool) string {
	t.Helper()
	var k any
	if ec {
		k, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		_, k, _ = ed25519.GenerateKey(rand.Reader)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func signer(t *testing.T, files ...string) *Signer {
	t.Helper()
	keys, err := LoadKeys(files)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(keys, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verifier(s *Signer, audience string) *Verifier {
	keys, _ := ParseJWKS(s.Keys().JWKS())
	return &Verifier{Keys: keys, Audience: audience}
}

func TestSignVerify(t *testing.T) {
	for _, ec := range []bool{false, true} {
		s := signer(t, keyFile(t, ec))
		tok, exp, err := s.Sign(alice, "everything")
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(exp); d < 55*time.Second || d > 61*time.Second {
			t.Errorf("expires in %s, want about a minute", d)
		}
		c, err := verifier(s, "everything").Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("ec=%v: %v", ec, err)
		}
		if c.Subject != "alice" || c.PrincipalIssuer != "https://idp.example" || c.Issuer != DefaultIssuer || c.ClientID != "ide" ||
			c.Scope != "math mcp:tools" || c.AuthMethod != "oauth" || c.ID == "" || len(c.Audience) != 1 || c.Audience[0] != "everything" {
			t.Errorf("claims %+v", c)
		}
		tok2, _, _ := s.Sign(alice, "everything")
		if c2, _ := verifier(s, "everything").Verify(context.Background(), tok2); c2 == nil || c2.ID == c.ID {
			t.Error("two assertions share a jti")
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	s := signer(t, keyFile(t, false))
	other := signer(t, keyFile(t, false))
	good, _, _ := s.Sign(alice, "everything")
	foreign, _, _ := other.Sign(alice, "everything")
	past := *s
	past.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	expired, _, _ := past.Sign(alice, "everything")
	future := *s
	future.now = func() time.Time { return time.Now().Add(time.Minute) }
	notYet, _, _ := future.Sign(alice, "everything")
	otherIss, _ := NewSigner(s.Keys(), "someone-else", 0)
	wrongIss, _, _ := otherIss.Sign(alice, "everything")
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+s.Keys().SigningKeyID()+`"}`)) + "." + parts[1] + "."
	hs := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"`+s.Keys().SigningKeyID()+`"}`)) + "." + parts[1] + "." + parts[2]
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory","aud":"everything","iss":"mcpmesh","exp":9999999999}`)) + "." + parts[2]
	for name, tok := range map[string]string{
		"other audience":    mustSign(t, s, "registry"),
		"unknown key":       foreign,
		"expired":           expired,
		"not yet valid":     notYet,
		"other issuer":      wrongIss,
		"alg none":          none,
		"HS256":             hs,
		"tampered payload":  tampered,
		"two parts":         parts[0] + "." + parts[1],
		"garbage":           "not a token",
		"oversized":         strings.Repeat("a", maxTokenSize+1),
		"empty":             "",
		"bad base64 header": "@@@." + parts[1] + "." + parts[2],
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := verifier(s, "everything").Verify(context.Background(), tok); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func mustSign(t *testing.T, s *Signer, aud string) string {
	tok, _, err := s.Sign(alice, aud)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRotation follows the documented steps: a new key is first published, then signs,
// then the old one goes; a provider fetching the JWKS verifies throughout without a
// restart.
func TestRotation(t *testing.T) {
	oldKey, newKey := keyFile(t, false), keyFile(t, true)
	var jwks atomic.Pointer[[]byte]
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = w.Write(*jwks.Load())
	}))
	defer srv.Close()
	publish := func(s *Signer) { b := s.Keys().JWKS(); jwks.Store(&b) }
	v := &Verifier{Keys: &RemoteKeys{URL: srv.URL, MinRefresh: time.Nanosecond}, Audience: "p"}

	step0 := signer(t, oldKey)
	publish(step0)
	signedOld := mustSign(t, step0, "p")
	if _, err := v.Verify(context.Background(), signedOld); err != nil {
		t.Fatal(err)
	}
	step1 := signer(t, oldKey, newKey) // new key published, old still signs
	publish(step1)
	if step1.Keys().SigningKeyID() != step0.Keys().SigningKeyID() {
		t.Fatal("adding a second file changed the signing key")
	}
	step2 := signer(t, newKey, oldKey) // new key signs
	signedNew := mustSign(t, step2, "p")
	for _, tok := range []string{signedOld, signedNew} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("during rotation: %v", err)
		}
	}
	step3 := signer(t, newKey) // old key dropped
	publish(step3)
	if _, err := v.Verify(context.Background(), signedNew); err != nil {
		t.Fatal(err)
	}
	var keys struct{ Keys []json.RawMessage }
	_ = json.Unmarshal(step1.Keys().JWKS(), &keys)
	if len(keys.Keys) != 2 {
		t.Fatalf("JWKS of two files has %d keys", len(keys.Keys))
	}
	if strings.Contains(string(step1.Keys().JWKS()), `"d"`) {
		t.Fatal("the JWKS publishes a private key")
	}
	if fetches.Load() < 2 {
		t.Fatalf("the new key was verified without refetching the JWKS (%d fetches)", fetches.Load())
	}
}

func TestRemoteKeysRefreshesAtMostOncePerInterval(t *testing.T) {
	s := signer(t, keyFile(t, false))
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = w.Write(s.Keys().JWKS())
	}))
	defer srv.Close()
	v := &Verifier{Keys: &RemoteKeys{URL: srv.URL, MinRefresh: time.Hour}, Audience: "p"}
	foreign := mustSign(t, signer(t, keyFile(t, false)), "p")
	for range 5 {
		if _, err := v.Verify(context.Background(), foreign); !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for five unknown kids within the interval, want 1", n)
	}
}

func TestVerifyIncoming(t *testing.T) {
	s := signer(t, keyFile(t, false))
	v := verifier(s, "p")
	if _, err := v.VerifyIncoming(context.Background()); !errors.Is(err, ErrMissing) {
		t.Fatalf("no metadata: %v", err)
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(MetadataKey, mustSign(t, s, "p")))
	if c, err := v.VerifyIncoming(ctx); err != nil || c.Subject != "alice" {
		t.Fatalf("claims %+v err %v", c, err)
	}
}

func TestConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Config{TTL: time.Second}).Validate(); err == nil || !strings.Contains(err.Error(), "auth.assertion.ttl") || !strings.Contains(err.Error(), "auth.assertion.issuer") {
		t.Fatalf("err = %v", err)
	}
	if _, err := (Config{}).Keys(false); err == nil || !strings.Contains(err.Error(), "signing_key_files") {
		t.Fatalf("no keys across processes: %v", err)
	}
	ks, err := (Config{}).Keys(true)
	if err != nil || !ks.Ephemeral() {
		t.Fatalf("ephemeral: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	_ = os.WriteFile(bad, []byte("nope"), 0o600)
	if _, err := LoadKeys([]string{bad, "/does/not/exist"}); err == nil || !strings.Contains(err.Error(), "no PEM block") || !strings.Contains(err.Error(), "/does/not/exist") {
		t.Fatalf("err = %v", err)
	}
}
