package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// TestMigrateStatusAndDown drives the operator commands of docs/operations/database.md
// against a throwaway PostgreSQL: status before and after `migrate`, `migrate down` of
// one target, and `migrate` again.
func TestMigrateStatusAndDown(t *testing.T) {
	env := []string{"MCPMESH_DATABASE_URL=" + pgtest.NewDatabase(t)}
	mcpmesh := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("mcpmesh %s: error %v, want success %v\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}
	// state returns "service version state" for every migration status lists.
	state := func() []string {
		t.Helper()
		var rows []string
		row := regexp.MustCompile(`^(\w+)\s+(\d+)\s+\S+\.sql\s+(applied|pending)\b`)
		for _, line := range strings.Split(mcpmesh(true, "migrate", "status"), "\n") {
			if m := row.FindStringSubmatch(line); m != nil {
				rows = append(rows, m[1]+" "+m[2]+" "+m[3])
			}
		}
		return rows
	}
	count := func(rows []string, suffix string) int {
		n := 0
		for _, r := range rows {
			if strings.HasSuffix(r, suffix) {
				n++
			}
		}
		return n
	}

	before := state()
	if len(before) < 2 || count(before, "pending") != len(before) {
		t.Fatalf("status of a new database = %v, want every migration pending", before)
	}
	mcpmesh(true, "migrate")
	after := state()
	if count(after, "applied") != len(before) {
		t.Fatalf("status after migrate = %v, want every migration applied", after)
	}
	newestSession := ""
	for _, r := range after {
		if strings.HasPrefix(r, "session ") {
			newestSession = strings.Fields(r)[1]
		}
	}

	if out := mcpmesh(false, "migrate", "down"); !strings.Contains(out, "name the service") {
		t.Errorf("migrate down without one target: %q, want the reason", out)
	}
	if out := mcpmesh(false, "migrate", "down", "gateway"); !strings.Contains(out, "owns no tables") {
		t.Errorf("migrate down gateway: %q, want the reason", out)
	}
	if out := mcpmesh(true, "migrate", "down", "session"); !strings.Contains(out, "undid session migration "+newestSession) {
		t.Errorf("migrate down session printed %q, want migration %s undone", out, newestSession)
	}
	downed := state()
	if count(downed, "pending") != 1 || !slicesContains(downed, "session "+newestSession+" pending") {
		t.Errorf("status after down = %v, want only session %s pending", downed, newestSession)
	}
	mcpmesh(true, "migrate", "up")
	if again := state(); count(again, "applied") != len(before) {
		t.Errorf("status after migrate up = %v, want every migration applied", again)
	}
}

func slicesContains(rows []string, want string) bool {
	for _, r := range rows {
		if r == want {
			return true
		}
	}
	return false
}
