package gateway_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// apiKeyFixture is a key store with a pepper, and a function that adds a key.
type apiKeyFixture struct {
	file, pepperFile string
	store            *apikey.FileStore
	hasher           *apikey.Hasher
}

func newAPIKeyFixture(t *testing.T) *apiKeyFixture {
	t.Helper()
	dir := t.TempDir()
	f := &apiKeyFixture{file: filepath.Join(dir, "apikeys.json"), pepperFile: filepath.Join(dir, "pepper")}
	pepper := strings.Repeat("p", 48)
	if err := os.WriteFile(f.pepperFile, []byte(pepper+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.hasher, err = apikey.NewHasher([]byte(pepper)); err != nil {
		t.Fatal(err)
	}
	f.store = apikey.NewFileStore(f.file)
	return f
}

func (f *apiKeyFixture) add(t *testing.T, name string, scopes []string, expires time.Time) string {
	t.Helper()
	key, err := apikey.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Create(apikey.Record{Name: name, Hash: f.hasher.Hash(key), Scopes: scopes, CreatedAt: time.Now(), ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	return key
}

func (f *apiKeyFixture) configure(mode string) func(*gateway.Config) {
	return func(c *gateway.Config) {
		c.Auth.Mode = mode
		c.Auth.APIKeys.File = f.file
		c.Auth.APIKeys.PepperFile = f.pepperFile
		c.Auth.APIKeys.LastUsedInterval = time.Nanosecond
	}
}

// API keys: valid ones act for their name and scopes; revoked, expired and unknown ones
// get 401 invalid_token; the last use is recorded.
func TestAPIKeys(t *testing.T) {
	f := newAPIKeyFixture(t)
	good := f.add(t, "ci-bot", []string{"math", "mcp:tools"}, time.Time{})
	revoked := f.add(t, "old-bot", nil, time.Time{})
	expired := f.add(t, "temp-bot", nil, time.Now().Add(-time.Minute))
	if err := f.store.Revoke("old-bot", time.Now()); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{inProcess: true, configure: f.configure("api_key")})
	unknown, _ := apikey.NewKey()
	changed := good[:len(good)-1] + "A"
	if changed == good {
		changed = good[:len(good)-1] + "B"
	}
	const challenge = `Bearer realm="mcpmesh", error="invalid_token", error_description="`
	tests := []struct {
		name, key  string
		wantStatus int
		wantDesc   string
	}{
		{"valid", good, 200, ""},
		{"revoked key", revoked, 401, "the API key has been revoked"},
		{"expired key", expired, 401, "the API key has expired"},
		{"unknown key", unknown, 401, "unknown API key"},
		{"key with a character changed", changed, 401, "unknown API key"},
		{"JWT where only API keys are accepted", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", 401, "only API keys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(map[string]string{"Authorization": "Bearer " + tc.key})))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus == 200 {
				return
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, challenge+tc.wantDesc) {
				t.Errorf("WWW-Authenticate %q, want %q…", got, challenge+tc.wantDesc)
			}
			var e map[string]string
			if err := json.Unmarshal(body, &e); err != nil || e["error"] != "invalid_token" {
				t.Errorf("body %s", body)
			}
		})
	}
	p := h.transport.principal()
	if p == nil || p.Subject != "ci-bot" || p.Issuer != "mcpmesh" || !p.HasScope("math") || string(p.Method) != "api_key" {
		t.Fatalf("principal %+v", p)
	}
	recs, err := f.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Name == "ci-bot" && r.LastUsedAt.IsZero() {
			t.Error("the last use of ci-bot is not recorded")
		}
		if strings.Contains(mustJSON(t, r), good) {
			t.Error("the key is stored in clear")
		}
	}

	// Revocation reaches a running gateway without a restart.
	if err := f.store.Revoke("ci-bot", time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, func() bool {
		resp, _ := h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(map[string]string{"Authorization": "Bearer " + good})))
		return resp.StatusCode == http.StatusUnauthorized
	}, "a revoked key is refused by the running gateway")
}
