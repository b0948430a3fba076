package mesh

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// writeSigningKey puts a new ECDSA P-256 key at path as a Secret update does: a new
// file renamed over the old one.
func writeSigningKey(t *testing.T, path string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".next"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// publishedKids are the key ids of the JWKS the gateway at base serves.
func publishedKids(base string) ([]string, error) {
	resp, err := http.Get(base + assertion.JWKSPath)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var kids []string
	for _, k := range jwks.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, nil
}

// TestAssertionKeyRotationWithoutRestart replaces auth.assertion.signing_key_files
// under a running mesh: the session service signs with the new key, the gateway's
// JWKS publishes it beside the old one (kept for auth.assertion.retired_key_grace), and
// a provider whose cached JWKS predates the rotation verifies the assertions of both
// keys, refetching on the new kid.
func TestAssertionKeyRotationWithoutRestart(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "assertion.pem")
	writeSigningKey(t, keyFile)
	cfg := allInOne(t)
	cfg.Auth.Assertion.SigningKeyFiles = []string{keyFile}
	m, base := startMesh(t, cfg)
	signer, err := m.assertionSigner() // the session service's signer, over the same keys
	if err != nil {
		t.Fatal(err)
	}
	oldKid := m.assertionKeys.Current().SigningKeyID()
	if kids, err := publishedKids(base); err != nil || !slices.Equal(kids, []string{oldKid}) {
		t.Fatalf("JWKS before the rotation: %v %v, want [%s]", kids, err, oldKid)
	}
	provider := &assertion.Verifier{Keys: &assertion.RemoteKeys{URL: base + assertion.JWKSPath, MinRefresh: time.Millisecond}, Audience: "everything"}
	alice := &principal.Principal{Subject: "alice", Issuer: "https://idp.example", Method: principal.MethodOAuth}
	before, _, err := signer.Sign(alice, "everything")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Verify(context.Background(), before); err != nil {
		t.Fatalf("before the rotation: %v", err)
	}

	writeSigningKey(t, keyFile)
	var newKid string
	eventually.NoError(t, 10*time.Second, func() error {
		kids, err := publishedKids(base)
		if err != nil {
			return err
		}
		newKid = m.assertionKeys.Current().SigningKeyID()
		if newKid == oldKid || !slices.Equal(kids, []string{newKid, oldKid}) {
			return fmt.Errorf("JWKS %v, want the new key then %s", kids, oldKid)
		}
		return nil
	}, "the gateway publishes the new key and keeps the old one")
	after, _, err := signer.Sign(alice, "everything")
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"new key": after, "old key, within the grace": before} {
		if c, err := provider.Verify(context.Background(), tok); err != nil || c.Subject != "alice" {
			t.Errorf("%s: %+v %v", name, c, err)
		}
	}
}
