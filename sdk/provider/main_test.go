package provider

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMainExitsOnFailure runs Main in a child process without MCPMESH_PEERS_REGISTRY: it
// exits 1 and logs what to set.
func TestMainExitsOnFailure(t *testing.T) {
	if os.Getenv("PROVIDER_MAIN_CHILD") == "1" {
		Main(func(logger *slog.Logger) (*Server, error) { return New(Options{Name: "child", Logger: logger}) })
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMainExitsOnFailure$")
	cmd.Env = append(os.Environ(), "PROVIDER_MAIN_CHILD=1", EnvRegistry+"=")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "MCPMESH_PEERS_REGISTRY is not set") {
		t.Errorf("Main without a registry: %v\n%s", err, out)
	}
}
