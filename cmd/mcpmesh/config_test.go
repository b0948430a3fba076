package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
)

// Every key that config print shows must be documented in docs/configuration.md, so
// the reference cannot fall behind the code.
func TestConfigurationReferenceCoversEveryKey(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"config", "print"}, nil, &out, &out); err != nil {
		t.Fatalf("config print: %v\n%s", err, out.String())
	}
	k := koanf.New(".")
	if err := k.Load(rawbytes.Provider(out.Bytes()), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys := k.Keys()
	if len(keys) < 20 {
		t.Fatalf("config print showed only %d keys:\n%s", len(keys), out.String())
	}
	for _, key := range keys {
		if !strings.Contains(string(doc), "`"+key+"`") {
			t.Errorf("docs/configuration.md does not document %s", key)
		}
	}
}

func TestConfigProblemsReportedTogether(t *testing.T) {
	var out bytes.Buffer
	env := []string{"MCPMESH_GATEWAY_MAX_BODY_BYTES=lots", "MCPMESH_PROVIDER_LEASE=1s"}
	err := run(t.Context(), []string{"config", "print", "-target=all,frontend"}, env, &out, &out)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"gateway.max_body_bytes", "frontend", "provider.lease"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestConfigPrintMasksSecrets(t *testing.T) {
	var out bytes.Buffer
	// Static provider addresses are not secret, but a DSN-like URL with a password is.
	env := []string{"MCPMESH_PEERS_REGISTRY=dns://user:hunter2@registry:9090"}
	if err := run(t.Context(), []string{"config", "print"}, env, &out, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "hunter2") {
		t.Errorf("password printed:\n%s", out.String())
	}
}

// Every secret set directly is masked in config print, whichever layer set it; the
// files that hold secrets are named, never read into the output.
func TestConfigPrintMasksEverySecret(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "tls.key")
	if err := os.WriteFile(keyFile, []byte("-----BEGIN PRIVATE KEY-----\nsecret-key-material\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"MCPMESH_DATABASE_URL":                       "postgres://mcpmesh:db-password-1@db:5432/mcpmesh",
		"MCPMESH_SESSION_REQUEST_STATE_KEY":          "request-state-key-0123456789abcdef",
		"MCPMESH_SESSION_REQUEST_STATE_PREVIOUS_KEY": "previous-state-key-0123456789abcdef",
	}
	env := []string{
		"MCPMESH_GRPC_TLS_KEY_FILE=" + keyFile,
		"MCPMESH_GRPC_TLS_CERT_FILE=" + filepath.Join(dir, "tls.crt"),
		"MCPMESH_GRPC_TLS_CA_FILE=" + filepath.Join(dir, "ca.crt"),
		"MCPMESH_GATEWAY_TLS_KEY_FILE=" + keyFile,
		"MCPMESH_GATEWAY_TLS_CERT_FILE=" + filepath.Join(dir, "tls.crt"),
		"MCPMESH_ADMIN_AUTH_BEARER_TOKEN_FILE=" + filepath.Join(dir, "admin-token"),
		"MCPMESH_SESSION_REQUEST_STATE_PREVIOUS_KEY_FILE=",
	}
	for k, v := range secrets {
		env = append(env, k+"="+v)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"config", "print"}, env, &out, &out); err != nil {
		t.Fatalf("config print: %v\n%s", err, out.String())
	}
	printed := out.String()
	for _, secret := range []string{"db-password-1", "request-state-key-0123456789abcdef", "previous-state-key-0123456789abcdef", "secret-key-material"} {
		if strings.Contains(printed, secret) {
			t.Errorf("config print shows the secret %q:\n%s", secret, printed)
		}
	}
	for _, want := range []string{"request_state_key: '********'", "request_state_previous_key: '********'", "key_file: " + keyFile, "bearer_token_file: " + filepath.Join(dir, "admin-token")} {
		if !strings.Contains(printed, want) {
			t.Errorf("config print lacks %q:\n%s", want, printed)
		}
	}
}
