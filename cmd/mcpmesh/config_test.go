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
