package errorid

import (
	"regexp"
	"testing"
)

func TestNew(t *testing.T) {
	hexID := regexp.MustCompile(`^[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := New()
		if !hexID.MatchString(id) {
			t.Fatalf("id %q is not 12 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
	if got := Append("service unavailable", "abc"); got != "service unavailable (id abc)" {
		t.Errorf("Append = %q", got)
	}
}
