package session

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
)

// TestBreakerOpensOnAProviderThatDoesNotAnswer: calls to a provider that is down open
// its breaker after the threshold; later calls fail at once with the same message a
// client already knows, and a tool of a healthy provider is not affected.
func TestBreakerOpensOnAProviderThatDoesNotAnswer(t *testing.T) {
	h := newHarness(t, true, func(c *Config) {
		c.Breaker.FailureThreshold = 2
		c.Breaker.OpenTimeout = time.Hour
	})
	sess := h.initialize(t, "2025-11-25")
	for i := range 3 {
		e := h.mustError(t, stateful(sess, "tools/call", `{"name":"flaky"}`), -32603)
		if !strings.Contains(e.GetMessage(), "tool flaky is unavailable: provider down did not answer") {
			t.Fatalf("call %d: %q", i, e.GetMessage())
		}
		if want := breaker.StateClosed; i < 1 && h.svc.backend.Breakers.State("down") != want {
			t.Fatalf("after %d failures the breaker is %v, want %v", i+1, h.svc.backend.Breakers.State("down"), want)
		}
	}
	if got := h.svc.backend.Breakers.State("down"); got != breaker.StateOpen {
		t.Fatalf("breaker of the provider that is down is %v, want open", got)
	}
	h.mustResult(t, stateful(sess, "tools/call", `{"name":"echo","arguments":{"message":"still here"}}`))
	if got := h.svc.backend.Breakers.State("p"); got != breaker.StateClosed {
		t.Fatalf("breaker of the healthy provider is %v, want closed", got)
	}
}
