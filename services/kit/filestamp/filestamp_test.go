package filestamp

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A rewrite shows as a change, the same contents stamped twice do not, and a missing
// file is an error.
func TestStamps(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Read(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := Read(p, ""); !a.Equal(b) {
		t.Fatal("unchanged file stamped differently")
	}
	if err := os.WriteFile(p, []byte("two!"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := Read(p, ""); a.Equal(b) {
		t.Fatal("a rewrite with another size was not seen")
	}
	// Same size, later time: still a change.
	c, _ := Read(p, "")
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(p, []byte("tw0!"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if d, _ := Read(p, ""); c.Equal(d) {
		t.Fatal("a rewrite of the same size was not seen")
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing file was stamped")
	}
}
