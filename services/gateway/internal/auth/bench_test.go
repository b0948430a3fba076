package auth

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
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

// BenchmarkAuthenticateAPIKey is what authentication adds to a request with an API key:
// header parsing, the key's HMAC-SHA256 and a map lookup in the source's current
// records (the file's here; a database's follower is an atomic load instead of the
// file source's lock), and noting the last use.
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	dir := b.TempDir()
	h, err := apikey.NewHasher([]byte(strings.Repeat("p", 48)))
	if err != nil {
		b.Fatal(err)
	}
	store := apikey.NewFileStore(filepath.Join(dir, "keys.json"))
	key, _ := apikey.NewKey()
	if err := store.Create(apikey.Record{Name: "bench", Hash: h.Hash(key), Scopes: []string{"mcp:tools"}, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	src, err := apikey.NewFileSource(store, time.Second, time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewAPIKeyVerifier(APIKeySettings{Hasher: h, Keys: src})
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
