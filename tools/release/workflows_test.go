package release

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// workflowFiles are the GitHub workflows of the repository.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ci.yml", "release.yml", "deploy.yml"} {
		if !containsBase(files, want) {
			t.Errorf(".github/workflows/%s is missing", want)
		}
	}
	return files
}

func containsBase(files []string, name string) bool {
	for _, f := range files {
		if filepath.Base(f) == name {
			return true
		}
	}
	return false
}

// TestWorkflowsLint runs actionlint (the library of the pinned version) over every
// workflow: syntax, expressions, job dependencies, action inputs of the actions it
// knows, and, when shellcheck is on PATH, the run scripts.
func TestWorkflowsLint(t *testing.T) {
	files := workflowFiles(t)
	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// pinnedAction is owner/repo[/path]@<40 hex> — a commit, which no one can move, unlike
// a tag or a branch.
var pinnedAction = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$`)

// versionComment is the release the commit is, for people and for Dependabot.
var versionComment = regexp.MustCompile(`#\s*v\d+(\.\d+)*\s*$`)

// TestWorkflowsPinActionsByCommit: every action a workflow uses is a local action or
// pinned by a full commit digest, with its release named in a comment.
func TestWorkflowsPinActionsByCommit(t *testing.T) {
	for _, file := range workflowFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		wf, errs := actionlint.Parse(src)
		if len(errs) > 0 {
			t.Errorf("%s: %s", file, errs[0].Message)
			continue
		}
		lines := strings.Split(string(src), "\n")
		uses := 0
		for _, job := range wf.Jobs {
			if job.WorkflowCall != nil && job.WorkflowCall.Uses != nil && !strings.HasPrefix(job.WorkflowCall.Uses.Value, "./") {
				checkPin(t, file, lines, job.WorkflowCall.Uses)
				uses++
			}
			for _, step := range job.Steps {
				action, ok := step.Exec.(*actionlint.ExecAction)
				if !ok || action.Uses == nil || strings.HasPrefix(action.Uses.Value, "./") {
					continue
				}
				checkPin(t, file, lines, action.Uses)
				uses++
			}
		}
		if uses == 0 {
			t.Errorf("%s uses no actions: is the parse right?", file)
		}
	}
}

func checkPin(t *testing.T, file string, lines []string, uses *actionlint.String) {
	t.Helper()
	where := filepath.Base(file) + ":" + uses.Pos.String()
	if strings.HasPrefix(uses.Value, "docker://") {
		if !strings.Contains(uses.Value, "@sha256:") {
			t.Errorf("%s: %s is not pinned by digest", where, uses.Value)
		}
		return
	}
	if !pinnedAction.MatchString(uses.Value) {
		t.Errorf("%s: %s is not pinned by a 40-hex commit digest", where, uses.Value)
		return
	}
	if line := uses.Pos.Line; line < 1 || line > len(lines) || !versionComment.MatchString(lines[line-1]) {
		t.Errorf("%s: %s has no \"# vX.Y.Z\" comment naming its release", where, uses.Value)
	}
}

// TestDependabotCoversEveryEcosystem: update proposals for Go modules, npm packages
// and the pinned actions.
func TestDependabotCoversEveryEcosystem(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "dependabot.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, eco := range []string{"gomod", "npm", "github-actions"} {
		if !regexp.MustCompile(`(?m)^\s*- package-ecosystem:\s*` + eco + `\s*$`).Match(src) {
			t.Errorf("dependabot.yml has no %s updates", eco)
		}
	}
}
