package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type inner struct {
	MaxBodyBytes int64         `koanf:"max_body_bytes"`
	Timeout      time.Duration `koanf:"timeout"`
	Origins      []string      `koanf:"origins"`
}

type testConfig struct {
	Listen   string `koanf:"listen"`
	Inner    inner  `koanf:"inner"`
	Database struct {
		URL      string `koanf:"url"`
		Password string `koanf:"password"`
	} `koanf:"database"`
}

func (c *testConfig) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: must not be empty"))
	}
	if c.Inner.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("inner.max_body_bytes: must be > 0"))
	}
	return errors.Join(errs...)
}

func defaults() testConfig {
	return testConfig{Listen: "127.0.0.1:8080", Inner: inner{MaxBodyBytes: 100, Timeout: time.Second}}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLayersOverrideInOrder(t *testing.T) {
	file := writeFile(t, "listen: 127.0.0.1:1\ninner:\n  timeout: 5s\n  max_body_bytes: 7\n")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("listen", "", "")
	fs.String("config", "", "")
	fs.String("inner.timeout", "", "")
	if err := fs.Parse([]string{"-listen", "127.0.0.1:3", "-config", file}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(defaults(), Sources{
		File:    file,
		Environ: []string{"MCPMESH_LISTEN=127.0.0.1:2", "MCPMESH_INNER_MAX_BODY_BYTES=9", "MCPMESH_INNER_ORIGINS=a,b", "OTHER=x"},
		Flags:   fs,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Value
	if c.Listen != "127.0.0.1:3" {
		t.Errorf("listen = %q, want the flag's value", c.Listen)
	}
	if c.Inner.MaxBodyBytes != 9 {
		t.Errorf("max_body_bytes = %d, want the environment's 9", c.Inner.MaxBodyBytes)
	}
	if c.Inner.Timeout != 5*time.Second {
		t.Errorf("timeout = %v, want the file's 5s (unset flag must not override)", c.Inner.Timeout)
	}
	if strings.Join(c.Inner.Origins, "|") != "a|b" {
		t.Errorf("origins = %v", c.Inner.Origins)
	}
}

func TestAllProblemsReportedTogether(t *testing.T) {
	file := writeFile(t, "listen: \"\"\nnope: 1\ninner:\n  typo: 2\n")
	_, err := Load(defaults(), Sources{File: file})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"nope", "typo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	_, err = Load(defaults(), Sources{Environ: []string{"MCPMESH_LISTEN=", "MCPMESH_INNER_MAX_BODY_BYTES=0"}})
	if err == nil || !strings.Contains(err.Error(), "listen") || !strings.Contains(err.Error(), "max_body_bytes") {
		t.Errorf("validation problems not all reported: %v", err)
	}
	_, err = Load(defaults(), Sources{File: filepath.Join(t.TempDir(), "missing.yaml")})
	if err == nil {
		t.Error("a missing file must be an error")
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	got, err := Load(defaults(), Sources{Environ: []string{
		"MCPMESH_DATABASE_URL=postgres://app:hunter2@db:5432/mesh",
		"MCPMESH_DATABASE_PASSWORD=hunter3",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := got.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, "hunter3") {
		t.Errorf("secret printed:\n%s", out)
	}
	if !strings.Contains(out, "timeout: 1s") || !strings.Contains(out, "app:") {
		t.Errorf("printed config lacks expected values:\n%s", out)
	}
}
