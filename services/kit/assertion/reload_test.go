package assertion

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replaceFile puts the contents of src at dst the way a Kubernetes Secret update or a
// careful operator does: a new file renamed over the old one.
func replaceFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(dst), ".next")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// TestFileKeysRotateWithoutRestart replaces the signing key file under a running
// signer: new assertions are signed with the new key, the JWKS publishes it and keeps
// the old one for the grace period, so a provider whose cached JWKS predates the
// rotation verifies both (it refetches on the unknown kid), and after the grace the old
// key is gone. A file that does not load changes nothing.
func TestFileKeysRotateWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signing.pem")
	replaceFile(t, keyFile(t, false), path)
	const grace = 15 * time.Minute
	fk, err := LoadFileKeys([]string{path}, grace, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	fk.now = func() time.Time { return clock }
	s, err := NewSigner(fk, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(fk.JWKS()) }))
	defer jwks.Close()
	provider := &Verifier{Keys: &RemoteKeys{URL: jwks.URL, MinRefresh: time.Nanosecond}, Audience: "everything"}

	oldKid := fk.Current().SigningKeyID()
	before := mustSign(t, s, "everything")
	if _, err := provider.Verify(context.Background(), before); err != nil {
		t.Fatalf("before the rotation: %v", err)
	}

	replaceFile(t, keyFile(t, true), path)
	// Not re-checked within a second of the last check: signing stays one map look-up.
	if fk.Current().SigningKeyID() != oldKid {
		t.Fatal("the files were re-read within the recheck interval")
	}
	clock = clock.Add(recheckInterval)
	newKid := fk.Current().SigningKeyID()
	if newKid == oldKid {
		t.Fatal("the replaced key file was not re-read")
	}
	after := mustSign(t, s, "everything")
	if kid := headerKid(t, after); kid != newKid {
		t.Fatalf("signed with %s after the rotation, want %s", kid, newKid)
	}
	for name, tok := range map[string]string{"new key": after, "retired key, within the grace": before} {
		if _, err := provider.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !bytes.Contains(fk.JWKS(), []byte(oldKid)) || !bytes.Contains(fk.JWKS(), []byte(newKid)) {
		t.Fatalf("JWKS during the grace %s, want %s and %s", fk.JWKS(), oldKid, newKid)
	}

	// A half-written file keeps the keys in force.
	if err := os.WriteFile(path, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(recheckInterval)
	if fk.Current().SigningKeyID() != newKid {
		t.Fatal("a file that does not load replaced the keys")
	}

	clock = clock.Add(grace)
	if bytes.Contains(fk.JWKS(), []byte(oldKid)) || !bytes.Contains(fk.JWKS(), []byte(newKid)) {
		t.Fatalf("JWKS after the grace %s, want only %s", fk.JWKS(), newKid)
	}
	// A provider that fetches the JWKS now no longer trusts the retired key.
	fresh := &Verifier{Keys: &RemoteKeys{URL: jwks.URL}, Audience: "everything"}
	if _, err := fresh.Verify(context.Background(), before); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the retired key verified after the grace: %v", err)
	}
	if _, err := fresh.Verify(context.Background(), mustSign(t, s, "everything")); err != nil {
		t.Fatalf("the new key after the grace: %v", err)
	}
}

// headerKid is the kid in a compact JWS's header.
func headerKid(t *testing.T, tok string) string {
	t.Helper()
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}
