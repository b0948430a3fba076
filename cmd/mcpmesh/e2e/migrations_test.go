package e2e

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// previousReleaseMigrations is, per service, the newest migration previousRelease
// embeds. Every migration after it must be additive: previousRelease runs on the
// schema it leaves (TestUpgradeAndRollbackUnderLoad). Move it with previousRelease.
var previousReleaseMigrations = map[string]int{"registry": 1, "session": 6}

// contractMarker in a migration file marks a reviewed contraction: a DROP or a
// tightening of something no release still supported reads or writes (VERSIONING.md).
const contractMarker = "-- mcpmesh:contract"

// migrationRules are what an expanding migration must not do, each with the reason an
// operator reads.
var migrationRules = []struct {
	pattern *regexp.Regexp
	why     string
}{
	{regexp.MustCompile(`(?i)\bDROP\s+(TABLE|COLUMN|VIEW|TYPE|SEQUENCE|FUNCTION|SCHEMA)\b`), "drops something the previous release may read or write"},
	{regexp.MustCompile(`(?i)\bRENAME\b`), "renames something the previous release names"},
	{regexp.MustCompile(`(?i)\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b`), "changes a column's type under the previous release"},
	{regexp.MustCompile(`(?i)\bSET\s+NOT\s+NULL\b`), "makes a column the previous release may leave empty NOT NULL"},
	{regexp.MustCompile(`(?i)\bADD\s+CONSTRAINT\b`), "adds a constraint the previous release's writes may break"},
}

// addColumn starts an ADD COLUMN clause, and nextClause ends it (or the statement does).
var (
	addColumn  = regexp.MustCompile(`(?i)\bADD\s+COLUMN\b`)
	nextClause = regexp.MustCompile(`(?i),\s*(ADD|ALTER|DROP)\b`)
)

// expansionViolations lists why the Up part of a goose migration is not additive.
func expansionViolations(sql string) []string {
	if strings.Contains(sql, contractMarker) {
		return nil
	}
	up := sql
	if i := strings.Index(up, "-- +goose Up"); i >= 0 {
		up = up[i:]
	}
	if i := strings.Index(up, "-- +goose Down"); i >= 0 {
		up = up[:i]
	}
	var code strings.Builder
	for line := range strings.Lines(up) {
		if c, _, _ := strings.Cut(line, "--"); strings.TrimSpace(c) != "" {
			code.WriteString(c + "\n")
		}
	}
	var out []string
	for _, stmt := range strings.Split(code.String(), ";") {
		stmt = strings.Join(strings.Fields(stmt), " ")
		for _, r := range migrationRules {
			if r.pattern.MatchString(stmt) {
				out = append(out, r.why+": "+stmt)
			}
		}
		for _, at := range addColumn.FindAllStringIndex(stmt, -1) {
			clause := stmt[at[1]:]
			if end := nextClause.FindStringIndex(clause); end != nil {
				clause = clause[:end[0]]
			}
			upper := strings.ToUpper(clause)
			if strings.Contains(upper, "NOT NULL") && !strings.Contains(upper, "DEFAULT") {
				out = append(out, "adds a NOT NULL column without a DEFAULT, which the previous release's inserts leave empty: "+stmt)
			}
		}
	}
	return out
}

// TestMigrationsAfterThePreviousReleaseOnlyExpand reads every service's migration
// files and checks that those newer than previousRelease's are additive: new tables,
// nullable or defaulted columns, new indexes; no DROP, RENAME, type change, NOT NULL
// without a DEFAULT or new constraint, unless the file carries contractMarker.
func TestMigrationsAfterThePreviousReleaseOnlyExpand(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "services", "*", "internal", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files found: %v", err)
	}
	checked := 0
	for _, f := range files {
		service := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(f))))
		version, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			t.Errorf("%s: no version number: %v", f, err)
			continue
		}
		if version <= previousReleaseMigrations[service] {
			continue
		}
		checked++
		sql, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range expansionViolations(string(sql)) {
			t.Errorf("%s: %s (VERSIONING.md: migrations only expand the schema)", f, v)
		}
	}
	t.Logf("%d migration files newer than the previous release checked", checked)
}

// TestExpansionRulesCatchContractions checks the rules on migrations that must fail
// them and ones that must pass.
func TestExpansionRulesCatchContractions(t *testing.T) {
	bad := []string{
		"ALTER TABLE sessions DROP COLUMN owner;",
		"DROP TABLE session_events;",
		"ALTER TABLE sessions RENAME COLUMN owner TO subject;",
		"ALTER TABLE sessions ALTER COLUMN owner TYPE bigint;",
		"ALTER TABLE sessions ALTER COLUMN owner SET DATA TYPE bigint;",
		"ALTER TABLE sessions ALTER COLUMN owner SET NOT NULL;",
		"ALTER TABLE sessions ADD COLUMN owner text NOT NULL;",
		"ALTER TABLE sessions ADD COLUMN a text, ADD COLUMN owner text NOT NULL;",
		"ALTER TABLE sessions ADD CONSTRAINT owner_set CHECK (owner <> '');",
	}
	for _, sql := range bad {
		if len(expansionViolations("-- +goose Up\n"+sql+"\n-- +goose Down\nSELECT 1;")) == 0 {
			t.Errorf("not caught: %s", sql)
		}
	}
	good := []string{
		"CREATE TABLE audit (id bigint NOT NULL PRIMARY KEY, at timestamptz NOT NULL);",
		"ALTER TABLE sessions ADD COLUMN owner text;",
		"ALTER TABLE sessions ADD COLUMN owner text NOT NULL DEFAULT '';",
		"ALTER TABLE sessions ADD COLUMN owner text NOT NULL DEFAULT '', ADD COLUMN note text;",
		"CREATE INDEX sessions_owner_idx ON sessions (owner);",
		"-- a comment that says DROP TABLE sessions\nALTER TABLE sessions ADD COLUMN owner text;",
		contractMarker + "\nALTER TABLE sessions DROP COLUMN legacy;",
	}
	for _, sql := range good {
		// The Down part may contract: it undoes the Up part.
		if v := expansionViolations("-- +goose Up\n" + sql + "\n-- +goose Down\nALTER TABLE sessions DROP COLUMN owner;"); len(v) != 0 {
			t.Errorf("additive migration rejected: %s: %v", sql, v)
		}
	}
}

// TestPreviousReleaseMigrationsMatchTheCommit checks previousReleaseMigrations against
// the migration files of previousRelease in git history, so that moving the pin
// without the map fails.
func TestPreviousReleaseMigrationsMatchTheCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	out, err := exec.Command("git", "ls-tree", "-r", "--name-only", "--full-tree", previousRelease, "--", ":/services").Output()
	if err != nil {
		if os.Getenv("MCPMESH_CI") != "" {
			t.Fatalf("git ls-tree %s: %v (a shallow clone? git fetch --unshallow)", previousRelease, err)
		}
		t.Skipf("git ls-tree %s: %v", previousRelease, err)
	}
	newest := map[string]int{}
	for _, f := range strings.Fields(string(out)) {
		dir, name := path.Split(f)
		parts := strings.Split(strings.Trim(dir, "/"), "/")
		if len(parts) != 4 || parts[2] != "internal" || parts[3] != "migrations" || path.Ext(name) != ".sql" {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		newest[parts[1]] = max(newest[parts[1]], v)
	}
	if len(newest) != len(previousReleaseMigrations) {
		t.Errorf("previous release %s has migrations %v; previousReleaseMigrations says %v", previousRelease, newest, previousReleaseMigrations)
	}
	for s, v := range newest {
		if previousReleaseMigrations[s] != v {
			t.Errorf("previous release %s has migrations %v; previousReleaseMigrations says %v", previousRelease, newest, previousReleaseMigrations)
			break
		}
	}
}
