package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// repoRoot is the repository's top folder (this package lives in tools/release).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// requireTools finds each tool on PATH. Without one the test is skipped, or fails
// when MCPMESH_CI is set, saying how to get it.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			msg := name + " is not on PATH: run `make release-test` (it builds the pinned tools into bin/ and puts them on PATH)"
			if os.Getenv("MCPMESH_CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// runIn runs a command in dir with extra environment variables and fails the test,
// showing its output, when it fails.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}
