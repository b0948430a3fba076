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

// Each way a value can mislead is refused (or, for a stray variable, reported) with
// the key, where it came from, and what to write instead.
func TestMisleadingValuesNamed(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		environ   []string
		flags     []string
		wantErr   []string // substrings of the error; nil means no error
		wantWarns []string // substrings of the warnings
	}{
		{
			name:    "bare number duration in a file",
			file:    "inner:\n  timeout: 60\n",
			wantErr: []string{"config file ", "inner.timeout: 60 has no unit", "timeout: 60s (under inner:)"},
		},
		{
			name:    "fractional bare number",
			file:    "inner:\n  timeout: 1.5\n",
			wantErr: []string{"inner.timeout: 1.5 has no unit"},
		},
		{
			name:    "bare number duration in the environment",
			environ: []string{"MCPMESH_INNER_TIMEOUT=60"},
			wantErr: []string{"environment variable MCPMESH_INNER_TIMEOUT", "MCPMESH_INNER_TIMEOUT=60s"},
		},
		{
			name:    "bare number duration as a flag",
			flags:   []string{"-inner.timeout=45"},
			wantErr: []string{"flag -inner.timeout", "-inner.timeout=45s"},
		},
		{
			name: "zero needs no unit",
			file: "inner:\n  timeout: 0\n",
		},
		{
			name: "a duration with a unit",
			file: "inner:\n  timeout: 90s\n",
		},
		{
			name:    "misspelt section",
			file:    "iner:\n  timeout: 5s\n",
			wantErr: []string{"config file ", "unknown key iner.timeout (did you mean inner.timeout?)"},
		},
		{
			name:    "misspelt key",
			file:    "inner:\n  max_body_byte: 5\n",
			wantErr: []string{"unknown key inner.max_body_byte (did you mean inner.max_body_bytes?)"},
		},
		{
			name:    "nothing near",
			file:    "completely_unrelated_setting: 1\n",
			wantErr: []string{"unknown key completely_unrelated_setting"},
		},
		{
			name:    "a section given a value",
			file:    "inner: 3\n",
			wantErr: []string{"inner is a section"},
		},
		{
			name:      "stray environment variable",
			environ:   []string{"MCPMESH_INER_TIMEOUT=5s"},
			wantWarns: []string{"MCPMESH_INER_TIMEOUT matches no configuration key", "did you mean MCPMESH_INNER_TIMEOUT?"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Sources{Environ: tt.environ}
			if tt.file != "" {
				src.File = writeFile(t, tt.file)
			}
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.String("inner.timeout", "", "")
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			src.Flags = fs
			got, err := Load(defaults(), src)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("no error; want one naming %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
			if err != nil && strings.Contains(err.Error(), "has invalid keys") {
				t.Errorf("the decoder's own unknown-key message leaked through:\n%v", err)
			}
			warnings := strings.Join(got.Warnings, "\n")
			for _, want := range tt.wantWarns {
				if !strings.Contains(warnings, want) {
					t.Errorf("warnings do not contain %q:\n%s", want, warnings)
				}
			}
			if tt.wantWarns == nil && len(got.Warnings) > 0 {
				t.Errorf("unexpected warnings: %q", got.Warnings)
			}
		})
	}
}

// config print shows what the process will use: decoded durations, and a list from
// the environment as a list rather than the string it was written as.
func TestPrintShowsDecodedValues(t *testing.T) {
	got, err := Load(defaults(), Sources{Environ: []string{"MCPMESH_INNER_ORIGINS=https://a,https://b", "MCPMESH_INNER_TIMEOUT=90s"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := got.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"origins:\n        - https://a\n        - https://b\n", "timeout: 1m30s"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed config lacks %q:\n%s", want, out)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"sesion", "session", 1}, {"abc", "", 3}, {"kitten", "sitting", 3}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
