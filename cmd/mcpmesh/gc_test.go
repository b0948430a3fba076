package main

import (
	"runtime/debug"
	"testing"
)

// The collector's target is 200 unless GOGC chooses; a GOGC of the environment is
// left to the runtime, which has already applied it.
func TestGCDefault(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	percent, fromEnv := applyGCDefault([]string{"HOME=/root", "GOGC="})
	if got := debug.SetGCPercent(100); got != defaultGCPercent || percent != "200" || fromEnv {
		t.Fatalf("without GOGC: target %d, reported %q (from the environment: %v); want %d", got, percent, fromEnv, defaultGCPercent)
	}

	percent, fromEnv = applyGCDefault([]string{"GOGC=50"})
	if got := debug.SetGCPercent(100); got != 100 || percent != "50" || !fromEnv {
		t.Fatalf("with GOGC=50: target %d (want the runtime's, untouched), reported %q (from the environment: %v)", got, percent, fromEnv)
	}
}
