package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
)

// create prints the key once and stores only its hash; list shows it; revoke stops it.
func TestAPIKeyCommands(t *testing.T) {
	dir := t.TempDir()
	store, pepper := filepath.Join(dir, "keys.json"), filepath.Join(dir, "pepper")
	if err := os.WriteFile(pepper, []byte(strings.Repeat("s", 40)), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []string{"-auth.api_keys.file", store, "-auth.api_keys.pepper_file", pepper}
	apikeyCmd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), append([]string{"apikey"}, append(args, files...)...), nil, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := apikeyCmd("create", "-name", "ci-bot", "-scopes", "mcp:tools,math", "-expires", "720h")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, apikey.Prefix) || len(key) < 40 {
		t.Fatalf("create printed %q, want one key", out)
	}
	raw, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), strings.TrimPrefix(key, apikey.Prefix)) {
		t.Fatal("the key is stored in clear")
	}
	if fi, _ := os.Stat(store); fi.Mode().Perm() != 0o600 {
		t.Errorf("store mode %v, want 0600", fi.Mode().Perm())
	}
	if out, err := apikeyCmd("create", "-name", "ci-bot"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a second ci-bot: %v %s", err, out)
	}
	if _, err := apikeyCmd("create", "-name", "bad name"); err == nil {
		t.Fatal("a name with a space was accepted")
	}
	out, err = apikeyCmd("list")
	if err != nil || !strings.Contains(out, "ci-bot") || !strings.Contains(out, "mcp:tools,math") || !strings.Contains(out, "active") || strings.Contains(out, key) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := apikeyCmd("revoke", "-name", "ci-bot"); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if out, _ := apikeyCmd("list"); !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke:\n%s", out)
	}
	if _, err := apikeyCmd("revoke", "-name", "nobody"); err == nil {
		t.Fatal("revoking an unknown key succeeded")
	}
}

// With database.url set the keys are in the database; a key file as well is refused,
// and so is a command with neither.
func TestAPIKeyCommandsNameOneStore(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"apikey", "list", "-database.url", "postgres://mcpmesh@127.0.0.1:1/mcpmesh", "-auth.api_keys.file", "keys.json"}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "both database.url and auth.api_keys.file are set") {
		t.Fatalf("both stores: %v\n%s", err, out.String())
	}
	if err := run(t.Context(), []string{"apikey", "list"}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "no key store") {
		t.Fatalf("no store: %v", err)
	}
}
