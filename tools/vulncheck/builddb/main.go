// Command builddb builds a govulncheck database folder from the OSV entries of the
// pinned golang.org/x/vulndb module (its data/osv folder), so that govulncheck runs
// offline with -db file://DIR. The folder holds what govulncheck reads:
//
//	ID/<id>.json        one OSV entry per vulnerability
//	index/db.json       {"modified": <latest modification of any entry>}
//	index/modules.json  per module path, its vulnerabilities' id, modified and fixed
//	index/vulns.json    per vulnerability, its id, modified and aliases
//
// A folder built from the same vulndb version is kept as it is.
//
// Usage: go run ./builddb -out DIR (in tools/vulncheck, whose go.mod pins vulndb).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// entry is the part of an OSV entry the indexes need.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced string `json:"introduced,omitempty"`
				Fixed      string `json:"fixed,omitempty"`
			} `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

func main() {
	out := flag.String("out", "", "database folder to write")
	flag.Parse()
	if *out == "" {
		log.Fatal("builddb: -out is required")
	}
	if err := run(*out); err != nil {
		log.Fatalf("builddb: %v", err)
	}
}

func run(out string) error {
	dir, version, err := vulndbModule()
	if err != nil {
		return err
	}
	stamp := filepath.Join(out, "vulndb.version")
	if b, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(b)) == version {
		return nil // built from this version already
	}
	entries, raw, err := readEntries(filepath.Join(dir, "data", "osv"))
	if err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("make folder: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".vulndb-")
	if err != nil {
		return fmt.Errorf("make folder: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }() // nothing left after the rename
	if err := write(tmp, entries, raw); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "vulndb.version"), []byte(version+"\n"), 0o644); err != nil {
		return err
	}
	// Replace the folder in one rename, so a reader never sees half of one.
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("remove old database: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("move database into place: %w", err)
	}
	fmt.Printf("builddb: %d entries from golang.org/x/vulndb %s in %s\n", len(entries), version, out)
	return nil
}

// vulndbModule is the folder and version of golang.org/x/vulndb as go.mod pins it.
func vulndbModule() (dir, version string, err error) {
	cmd := exec.CommandContext(context.Background(), "go", "mod", "download", "-json", "golang.org/x/vulndb")
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("locate golang.org/x/vulndb: %w", err)
	}
	var m struct{ Dir, Version string }
	if err := json.Unmarshal(b, &m); err != nil || m.Dir == "" {
		return "", "", fmt.Errorf("locate golang.org/x/vulndb: unexpected answer %q", b)
	}
	return m.Dir, m.Version, nil
}

func readEntries(dir string) ([]entry, map[string][]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("list OSV entries: %w", err)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no OSV entries in %s", dir)
	}
	var entries []entry
	raw := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		if e.ID == "" {
			return nil, nil, fmt.Errorf("%s: entry without an id", f)
		}
		if _, dup := raw[e.ID]; dup {
			return nil, nil, fmt.Errorf("%s: id %s appears twice", f, e.ID)
		}
		entries = append(entries, e)
		raw[e.ID] = b
	}
	return entries, raw, nil
}

func write(dir string, entries []entry, raw map[string][]byte) error {
	var latest time.Time
	modules := map[string]*module{}
	vulns := make([]vuln, 0, len(entries))
	for _, e := range entries {
		if e.Modified.After(latest) {
			latest = e.Modified
		}
		vulns = append(vulns, vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &module{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			var fixed string
			for _, r := range a.Ranges {
				if r.Type == "SEMVER" {
					fixed = latestFixed(fixed, r.Events)
				}
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: fixed})
		}
	}
	slices.SortFunc(vulns, func(a, b vuln) int { return strings.Compare(a.ID, b.ID) })
	mods := make([]*module, 0, len(modules))
	for _, m := range modules {
		slices.SortFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b *module) int { return strings.Compare(a.Path, b.Path) })

	if err := os.MkdirAll(filepath.Join(dir, "ID"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "index"), 0o755); err != nil {
		return err
	}
	for id, b := range raw {
		if err := os.WriteFile(filepath.Join(dir, "ID", id+".json"), compact(b), 0o644); err != nil {
			return err
		}
	}
	return errors.Join(
		writeJSON(filepath.Join(dir, "index", "db.json"), map[string]time.Time{"modified": latest}),
		writeJSON(filepath.Join(dir, "index", "modules.json"), mods),
		writeJSON(filepath.Join(dir, "index", "vulns.json"), vulns),
	)
}

// latestFixed is the highest fixed version of a range's events, combined with the
// ranges seen so far; "" when a later introduction leaves no version fixed for good.
func latestFixed(sofar string, events []struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
},
) string {
	before := func(a, b string) bool { // a < b, "" lowest; OSV versions have no "v"
		if a == "" {
			return b != ""
		}
		return semver.Compare("v"+a, "v"+b) < 0
	}
	latest := sofar
	for _, e := range events {
		if e.Fixed != "" && before(latest, e.Fixed) {
			latest = e.Fixed
		}
	}
	for _, e := range events {
		if e.Introduced != "" && e.Introduced != "0" && before(latest, e.Introduced) {
			return ""
		}
	}
	return latest
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, b, 0o644)
}
