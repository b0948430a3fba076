package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseNotes: the notes of a release are its CHANGELOG.md section, without the
// next section or the link references; a version without a section is an error (no
// release without notes).
func TestReleaseNotes(t *testing.T) {
	changelog := filepath.Join(t.TempDir(), "CHANGELOG.md")
	if err := os.WriteFile(changelog, []byte(`# Changelog

## [Unreleased]

### Added
- something new

## [1.1.0] - 2027-01-10

### Fixed
- a fix in 1.1.0

## [1.0.0] - 2027-01-01

### Added
- the first release

[Unreleased]: https://example.com/compare/v1.1.0...HEAD
[1.1.0]: https://example.com/compare/v1.0.0...v1.1.0
`), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(repoRoot(t), "tools", "release", "release-notes.sh")
	for _, tt := range []struct{ version, want, notWant string }{
		{"v1.1.0", "- a fix in 1.1.0", "the first release"},
		{"1.0.0", "- the first release", "[1.1.0]:"},
		{"Unreleased", "- something new", "a fix in 1.1.0"},
	} {
		out, err := exec.Command(script, tt.version, changelog).CombinedOutput()
		if err != nil {
			t.Fatalf("release-notes.sh %s: %v\n%s", tt.version, err, out)
		}
		if !strings.Contains(string(out), tt.want) || strings.Contains(string(out), tt.notWant) || strings.Contains(string(out), "## [") {
			t.Errorf("release-notes.sh %s = %q, want %q and not %q nor a heading", tt.version, out, tt.want, tt.notWant)
		}
	}
	if out, err := exec.Command(script, "v9.9.9", changelog).CombinedOutput(); err == nil {
		t.Errorf("release-notes.sh v9.9.9 succeeded without a section: %q", out)
	}
	// The repository's own changelog has notes for the next release.
	if out, err := exec.Command(script, "Unreleased", filepath.Join(repoRoot(t), "CHANGELOG.md")).CombinedOutput(); err != nil {
		t.Errorf("CHANGELOG.md: %v\n%s", err, out)
	}
}
