// Package meshbin builds the mcpmesh binary for the deployment tests and runs its
// configuration loader, so every argument and variable a deployment file passes is
// checked by the code that will read it (not by a copy of its rules).
package meshbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"sigs.k8s.io/yaml"
)

// RepoRoot is the repository root: the nearest parent of this file holding go.work.
func RepoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("meshbin: no caller information")
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("meshbin: no go.work above " + file)
		}
	}
}

// Build compiles a static mcpmesh (as the image carries it) into dir and returns its path.
func Build(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "mcpmesh")
	cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = filepath.Join(root, "cmd", "mcpmesh")
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build mcpmesh: %w\n%s", err, b)
	}
	return out, nil
}

// Config is the part of `mcpmesh config print` the deployment checks read.
type Config struct {
	Target string `json:"target"`
	GRPC   struct {
		Listen          string `json:"listen"`
		DrainDelay      string `json:"drain_delay"`
		ShutdownTimeout string `json:"shutdown_timeout"`
		TLS             struct {
			CertFile string `json:"cert_file"`
		} `json:"tls"`
	} `json:"grpc"`
	Gateway struct {
		Listen          string `json:"listen"`
		DrainDelay      string `json:"drain_delay"`
		ShutdownTimeout string `json:"shutdown_timeout"`
	} `json:"gateway"`
	Peers struct {
		Transport string `json:"transport"`
		Session   string `json:"session"`
		Registry  string `json:"registry"`
		Health    string `json:"health"`
	} `json:"peers"`
	Admin struct {
		Listen string `json:"listen"`
	} `json:"admin"`
	Database struct {
		URL string `json:"url"`
	} `json:"database"`
}

// PrintConfig runs `mcpmesh config print` with args and only environ as environment,
// and decodes what the loader accepted; an error carries the loader's message.
func PrintConfig(binary string, args, environ []string) (Config, error) {
	cmd := exec.CommandContext(context.Background(), binary, append([]string{"config", "print"}, args...)...)
	cmd.Env = environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Config{}, fmt.Errorf("mcpmesh config print %v: %w: %s", args, err, stderr.String())
	}
	var c Config
	if err := yaml.Unmarshal(stdout.Bytes(), &c); err != nil {
		return Config{}, fmt.Errorf("decode config print output: %w\n%s", err, stdout.String())
	}
	return c, nil
}
