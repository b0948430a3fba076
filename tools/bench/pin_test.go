package bench

import (
	"os/exec"
	"strings"
	"testing"
)

// A pinned command runs on the server CPU only.
func TestPinnedRunsOnTheServerCPU(t *testing.T) {
	if err := checkPinnable(); err != nil {
		t.Skip(err)
	}
	name, args := pinned("/bin/sh", []string{"-c", "grep Cpus_allowed_list /proc/self/status"})
	out, err := exec.CommandContext(testContext(t), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	if got := strings.Fields(string(out)); len(got) != 2 || got[1] != "0" {
		t.Fatalf("pinned process may run on %q, want CPU 0 only", out)
	}
}
