// Package eventually is how tests wait for something that happens asynchronously: a
// condition polled with a deadline and a clear failure message, instead of a sleep
// that is either too short on a busy machine or wastes time on an idle one.
package eventually

import (
	"fmt"
	"time"
)

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Poll intervals: the first check comes at once, later ones back off from
// firstInterval to maxInterval, so a fast condition costs little and a slow one does
// not spin.
const (
	firstInterval = time.Millisecond
	maxInterval   = 50 * time.Millisecond
)

// True waits until cond returns true, checking at once and then with a short backoff.
// When timeout passes first it fails the test with "timed out after <timeout> waiting
// until " and the formatted description of what was awaited.
func True(t TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	if !wait(timeout, cond) {
		t.Fatalf("timed out after %s waiting until %s", timeout, fmt.Sprintf(format, args...))
	}
}

// NoError waits until f returns nil, like True; the failure also names f's last error.
func NoError(t TB, timeout time.Duration, f func() error, format string, args ...any) {
	t.Helper()
	var last error
	if !wait(timeout, func() bool { last = f(); return last == nil }) {
		t.Fatalf("timed out after %s waiting until %s: last error: %v", timeout, fmt.Sprintf(format, args...), last)
	}
}

// Within reports whether cond became true within timeout, for a caller that has
// more to say about a failure than a description (or for which timing out is an
// answer, not a failure).
func Within(timeout time.Duration, cond func() bool) bool { return wait(timeout, cond) }

func wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	interval := firstInterval
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		timer := time.NewTimer(min(interval, left))
		<-timer.C
		interval = min(interval*2, maxInterval)
	}
}
