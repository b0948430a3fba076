package session

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// TestBreakerOpensOnAProviderThatDoesNotAnswer: calls to a provider that is down fail
// after waiting about dial.ProviderReadyWait for a connection (well within the
// tool-call timeout) and open its breaker after the threshold; later calls fail at
// once with the same message a client already knows, and a tool of a healthy
// provider is not affected.
func TestBreakerOpensOnAProviderThatDoesNotAnswer(t *testing.T) {
	h := newHarness(t, true, func(c *Config) {
		c.Breaker.FailureThreshold = 2
		c.Breaker.OpenTimeout = time.Hour
	})
	sess := h.initialize(t, "2025-11-25")
	for i := range 3 {
		start := time.Now()
		e := h.mustError(t, stateful(sess, "tools/call", `{"name":"flaky"}`), -32603)
		took := time.Since(start)
		if !strings.Contains(e.GetMessage(), "tool flaky is unavailable: provider down did not answer") {
			t.Fatalf("call %d: %q", i, e.GetMessage())
		}
		switch {
		case i < 2 && (took < dial.ProviderReadyWait/2 || took > 3*dial.ProviderReadyWait):
			t.Fatalf("call %d failed after %s; want about %s (the wait for a connection)", i, took, dial.ProviderReadyWait)
		case i == 2 && took > dial.ProviderReadyWait/2:
			t.Fatalf("call %d, with the breaker open, took %s; want at once", i, took)
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

// TestBreakerOpensUnderLoadOnAProviderThatIsGone: with callers calling a provider that
// is down without pause, the calls that waited for a connection together count as one
// failure, and the breaker still opens within about failure_threshold ×
// dial.ProviderReadyWait (docs/operations/deployment.md).
func TestBreakerOpensUnderLoadOnAProviderThatIsGone(t *testing.T) {
	const threshold = 2
	h := newHarness(t, true, func(c *Config) {
		c.Breaker.FailureThreshold = threshold
		c.Breaker.OpenTimeout = time.Hour
	})
	sess := h.initialize(t, "2025-11-25")
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var (
		wg    sync.WaitGroup
		calls atomic.Int64
	)
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				id := strconv.FormatInt(calls.Add(1), 10)
				_, _ = h.handle(t, &sessionv1.HandleRequest{SessionId: sess.GetId(), Method: "tools/call",
					Params: []byte(`{"name":"flaky"}`), RequestId: []byte(id)})
			}
		})
	}
	limit := 2 * threshold * dial.ProviderReadyWait
	opened := eventually.Within(limit, func() bool { return h.svc.backend.Breakers.State("down") == breaker.StateOpen })
	took := time.Since(start)
	stop()
	wg.Wait()
	if !opened {
		t.Fatalf("the breaker of a provider that is down is still %v after %s of calls", h.svc.backend.Breakers.State("down"), took)
	}
	t.Logf("breaker open after %s", took.Round(time.Millisecond))
}
