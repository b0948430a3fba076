package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestKeysAndHashes(t *testing.T) {
	if _, err := NewHasher([]byte("short")); err == nil {
		t.Fatal("a short pepper was accepted")
	}
	h1, _ := NewHasher([]byte(strings.Repeat("a", 32)))
	h2, _ := NewHasher([]byte(strings.Repeat("b", 32)))
	k, err := NewKey()
	if err != nil || !strings.HasPrefix(k, Prefix) || len(k) != len(Prefix)+43 {
		t.Fatalf("NewKey = %q, %v", k, err)
	}
	again, _ := NewHasher([]byte(strings.Repeat("a", 32)))
	if h1.Hash(k) != again.Hash(k) || h1.Hash(k) == h2.Hash(k) || strings.Contains(h1.Hash(k), k[len(Prefix):]) {
		t.Fatal("the hash is not a keyed, deterministic digest")
	}
	for _, bad := range []string{"", "-x", "a b", strings.Repeat("n", 65), "ä"} {
		if ValidName(bad) == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	now := time.Now()
	if !errors.Is((Record{ExpiresAt: now}).Usable(now), ErrExpired) || !errors.Is((Record{RevokedAt: now}).Usable(now), ErrRevoked) || (Record{}).Usable(now) != nil {
		t.Fatal("Usable")
	}
}

// Writers that race (the CLI and a gateway recording last use) lose nothing.
func TestFileStoreConcurrentWriters(t *testing.T) {
	s := NewFileStore(filepath.Join(t.TempDir(), "keys.json"))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := s.Create(Record{Name: fmt.Sprint("k", i), Hash: fmt.Sprint("h", i)}); err != nil {
				t.Error(err)
			}
			if err := s.TouchLastUsed(map[string]time.Time{fmt.Sprint("h", i): time.Now()}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	recs, err := s.Load()
	if err != nil || len(recs) != 20 {
		t.Fatalf("%d records, %v; want 20", len(recs), err)
	}
	for _, r := range recs {
		if r.LastUsedAt.IsZero() {
			t.Errorf("%s: last use lost", r.Name)
		}
	}
	if err := s.Create(Record{Name: "k1"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := s.Revoke("nobody", time.Now()); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown name: %v", err)
	}
}

// The pooled HMAC gives every caller, concurrent or not, the digest a fresh one gives.
func TestHasherPooledStateIsTheFreshDigest(t *testing.T) {
	pepper := []byte(strings.Repeat("p", 40))
	h, err := NewHasher(pepper)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(key string) string {
		m := hmac.New(sha256.New, pepper)
		m.Write([]byte(key))
		return hex.EncodeToString(m.Sum(nil))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("%sk%d-%d%s", Prefix, g, i, strings.Repeat("z", i))
				if got, want := h.Hash(key), fresh(key); got != want {
					t.Errorf("Hash(%q) = %s, want %s", key, got, want)
					return
				}
				if got := string(h.AppendHex([]byte("x:"), key)); got != "x:"+fresh(key) {
					t.Errorf("AppendHex = %s", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
