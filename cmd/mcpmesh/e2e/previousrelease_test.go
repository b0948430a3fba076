package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// previousRelease is the commit of release N-1, which the upgrade test runs beside the
// binary under test. Until the first version tag exists it is the last release
// candidate of main before the move to Go 1.27; docs/operations/release.md says when
// and how to move it (to the tag of the release before the one being prepared).
const previousRelease = "d10cf7ea03231714dcf12c5ec71374f2ff138295"

// previousReleaseVersion is the version stamped into the previous release's binary.
const previousReleaseVersion = "v0.0.0-previous"

// previousReleaseBinary builds previousRelease from the repository's own history
// (git archive of the commit into a temporary folder, the module of cmd/mcpmesh built
// with the toolchain of this test) and returns its path. The binary is kept in the
// temporary directory under a name made of the commit and the Go version, so it is
// built once per machine; the Go build cache keeps even the first build short after
// a change of toolchain. Without git or the commit (a shallow clone) the test fails
// under MCPMESH_CI and skips otherwise.
func previousReleaseBinary(t *testing.T) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("MCPMESH_CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath("git"); err != nil {
		unavailable("the upgrade test builds the previous release from git history: %v", err)
	}
	if out, err := exec.Command("git", "cat-file", "-e", previousRelease+"^{commit}").CombinedOutput(); err != nil {
		unavailable("commit %s of the previous release is not in this clone (fetch the full history: git fetch --unshallow): %v %s", previousRelease, err, out)
	}
	cached := filepath.Join(os.TempDir(), "mcpmesh-release-"+previousRelease[:12]+"-"+runtime.Version(), "mcpmesh")
	if _, err := os.Stat(cached); err == nil {
		return cached
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	src := t.TempDir()
	archive := filepath.Join(src, "release.tar")
	run := func(dir string, env []string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse --show-toplevel: %v", err)
	}
	// From the top: in a subfolder, git archive would take that subfolder only.
	run(strings.TrimSpace(string(top)), nil, "git", "archive", "--format=tar", "-o", archive, previousRelease)
	run(src, nil, "tar", "-xf", archive)
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		t.Fatal(err)
	}
	// Built beside its final name and renamed: a concurrent run never sees half a file.
	partial := cached + ".partial-" + filepath.Base(src)
	run(filepath.Join(src, "cmd", "mcpmesh"), []string{"GOWORK=off"}, "go", "build", "-trimpath",
		"-ldflags", "-X main.buildVersion="+previousReleaseVersion+" -X main.commit="+previousRelease,
		"-o", partial, ".")
	if err := os.Rename(partial, cached); err != nil {
		t.Fatal(err)
	}
	return cached
}
