package federation

import (
	"slices"
	"testing"
)

func TestFirstAttemptsEndOnce(t *testing.T) {
	s := &Service{first: newFirstAttempts([]string{"docs", "git", "billing"})}
	s.first.done("git", true)
	s.first.done("billing", false)
	s.first.done("billing", true) // a later success is not a first attempt
	running, succeeded := s.FirstAttempts()
	if !slices.Equal(running, []string{"docs"}) || !slices.Equal(succeeded, []string{"git"}) {
		t.Errorf("running %v, succeeded %v; want [docs] and [git]", running, succeeded)
	}
	s.first.done("docs", true)
	s.first.done("git", false) // nor is a later failure
	running, succeeded = s.FirstAttempts()
	if len(running) != 0 || !slices.Equal(succeeded, []string{"docs", "git"}) {
		t.Errorf("running %v, succeeded %v; want none and [docs git]", running, succeeded)
	}
}

// The stored upstreams hold readiness up until the store is read and their first
// connections end; one deleted is expected neither running nor in the catalogue.
func TestFirstAttemptsOfStoredUpstreams(t *testing.T) {
	s := &Service{first: newFirstAttempts([]string{"docs", storeReading})}
	if running, _ := s.FirstAttempts(); !slices.Equal(running, []string{"docs", storeReading}) {
		t.Errorf("before the store is read: running %v", running)
	}
	s.firstReconcile([]string{"beta", "gamma"})
	s.first.done("docs", true)
	s.first.done("beta", true)
	running, succeeded := s.FirstAttempts()
	if !slices.Equal(running, []string{"gamma"}) || !slices.Equal(succeeded, []string{"beta", "docs"}) {
		t.Errorf("running %v, succeeded %v; want [gamma] and [beta docs]", running, succeeded)
	}
	s.first.forget("gamma") // deleted before its first connection ended
	s.first.forget("beta")
	running, succeeded = s.FirstAttempts()
	if len(running) != 0 || !slices.Equal(succeeded, []string{"docs"}) {
		t.Errorf("after the deletes: running %v, succeeded %v; want none and [docs]", running, succeeded)
	}
}
