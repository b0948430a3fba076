package auth

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
)

// BenchmarkAuthenticateCachedToken is what authentication adds to a request whose
// token was verified before: header parsing, a SHA-256 of the token and a cache lookup.
func BenchmarkAuthenticateCachedToken(b *testing.B) {
	v, tok := newSignedFixture(b)
	a, err := New(Settings{Mode: Mode{Configured: true, OAuth: true}, OAuth: v, Challenge: Challenge{Scopes: []string{"mcp:tools"}}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, r := a.Authenticate(req); r != nil {
		b.Fatal(r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, r := a.Authenticate(req); r != nil {
			b.Fatal(r)
		}
	}
}

// BenchmarkAuthenticateAPIKey is what authentication adds to a request with an API key
// (the all-auth layout of mcpmesh-bench): header parsing, one HMAC-SHA256 and a map
// lookup under a lock.
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	h, err := apikey.NewHasher(bytes.Repeat([]byte{7}, 48))
	if err != nil {
		b.Fatal(err)
	}
	key, err := apikey.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	store := apikey.NewFileStore(filepath.Join(b.TempDir(), "apikeys.json"))
	if err := store.Create(apikey.Record{Name: "bench", Hash: h.Hash(key), Scopes: []string{"mcp:tools"}, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	v, err := NewAPIKeyVerifier(APIKeySettings{Hasher: h, Store: store, ReloadInterval: time.Second, LastUsedInterval: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(Settings{Mode: Mode{Configured: true, APIKey: true}, APIKeys: v})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if _, r := a.Authenticate(req); r != nil {
		b.Fatal(r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, r := a.Authenticate(req); r != nil {
			b.Fatal(r)
		}
	}
}
