package eventually

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recordingTB records a failure instead of ending the test.
type recordingTB struct{ failure string }

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
}

func TestTrueReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	var tb recordingTB
	True(&tb, 5*time.Second, func() bool { return calls.Add(1) >= 3 }, "the third call")
	if tb.failure != "" || calls.Load() != 3 {
		t.Fatalf("failure %q after %d calls, want none after 3", tb.failure, calls.Load())
	}
}

func TestTrueFailsWithTheDescription(t *testing.T) {
	var tb recordingTB
	start := time.Now()
	True(&tb, 30*time.Millisecond, func() bool { return false }, "the %s is ready", "widget")
	if !strings.Contains(tb.failure, "timed out after 30ms waiting until the widget is ready") {
		t.Fatalf("failure = %q", tb.failure)
	}
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Fatalf("gave up after %s, before the timeout", elapsed)
	}
}

func TestNoErrorNamesTheLastError(t *testing.T) {
	var tb recordingTB
	n := 0
	NoError(&tb, 20*time.Millisecond, func() error { n++; return fmt.Errorf("attempt %d: %w", n, errors.ErrUnsupported) }, "it works")
	if !strings.Contains(tb.failure, "waiting until it works: last error: attempt ") {
		t.Fatalf("failure = %q", tb.failure)
	}
	tb = recordingTB{}
	NoError(&tb, time.Second, func() error { return nil }, "it works")
	if tb.failure != "" {
		t.Fatalf("failure = %q for a function that succeeds", tb.failure)
	}
}

func TestWithin(t *testing.T) {
	if Within(10*time.Millisecond, func() bool { return false }) {
		t.Fatal("Within reported a condition that never held")
	}
	if !Within(time.Second, func() bool { return true }) {
		t.Fatal("Within missed a condition that held at once")
	}
}
