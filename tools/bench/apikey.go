package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// apiKeyAuth prepares the all-auth layout's authentication the way an operator would:
// a pepper file, a key store, and one key made with `mcpmesh apikey create`. It
// returns the environment that turns auth.mode api_key on with them, and the key the
// load sends as a bearer token. The files live in dir.
func apiKeyAuth(ctx context.Context, binary, dir string) (env []string, key string, err error) {
	pepper := make([]byte, 48)
	if _, err := rand.Read(pepper); err != nil {
		return nil, "", err
	}
	pepperFile := filepath.Join(dir, "apikey-pepper")
	if err := os.WriteFile(pepperFile, []byte(base64.StdEncoding.EncodeToString(pepper)+"\n"), 0o600); err != nil {
		return nil, "", fmt.Errorf("write the API key pepper: %w", err)
	}
	env = []string{
		"MCPMESH_AUTH_MODE=api_key",
		"MCPMESH_AUTH_API_KEYS_FILE=" + filepath.Join(dir, "apikeys.json"),
		"MCPMESH_AUTH_API_KEYS_PEPPER_FILE=" + pepperFile,
	}
	cmd := exec.CommandContext(ctx, binary, "apikey", "create", "-name", "bench", "-scopes", "mcp:tools")
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("mcpmesh apikey create: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	key = strings.TrimSpace(stdout.String())
	if key == "" || strings.ContainsAny(key, " \n") {
		return nil, "", fmt.Errorf("mcpmesh apikey create printed %q, want one key", stdout.String())
	}
	return env, key, nil
}
