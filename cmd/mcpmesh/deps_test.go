package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestTooling: the shipped binary contains what a server needs. The
// load generator, the MCP test recorder and the process helpers live in the tools
// module (tools/bench, tools/mcptest, tools/proc), and the throwaway-PostgreSQL and
// leak-check helpers are for tests only; none of them may be linked into mcpmesh.
func TestBinaryLinksNoTestTooling(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/mcpmesh/mcpmesh/tools",
		"github.com/mcpmesh/mcpmesh/services/kit/pgtest",
		"github.com/mcpmesh/mcpmesh/services/kit/eventually",
		"go.uber.org/goleak",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed %d packages; expected the whole server", len(deps))
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("mcpmesh links %s, which is test tooling", dep)
			}
		}
	}
}
