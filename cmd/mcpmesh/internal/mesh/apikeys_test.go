package mesh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
)

// apiKeyFiles switches cfg to auth.mode api_key with a pepper and a key file in a
// temporary folder, and returns how to make a key in that file.
func apiKeyFiles(t testing.TB, cfg *meshconfig.Config) (newKey func(name string, scopes ...string) string) {
	t.Helper()
	dir := t.TempDir()
	pepperFile, keysFile := filepath.Join(dir, "pepper"), filepath.Join(dir, "apikeys.json")
	pepper := strings.Repeat("k", 48)
	if err := os.WriteFile(pepperFile, []byte(pepper), 0o600); err != nil {
		t.Fatal(err)
	}
	hasher, err := apikey.NewHasher([]byte(pepper))
	if err != nil {
		t.Fatal(err)
	}
	store := apikey.NewFileStore(keysFile)
	cfg.Auth.Mode = "api_key"
	cfg.Auth.APIKeys.File, cfg.Auth.APIKeys.PepperFile = keysFile, pepperFile
	return func(name string, scopes ...string) string {
		key, err := apikey.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Create(apikey.Record{Name: name, Hash: hasher.Hash(key), Scopes: scopes, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return key
	}
}
