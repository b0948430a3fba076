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
