package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// providerDown is how the session decides: the provider did not answer.
func providerDown(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	default:
		return false
	}
}

var (
	errUnavailable = status.Error(codes.Unavailable, "connection refused")
	errDeadline    = status.Error(codes.DeadlineExceeded, "deadline exceeded")
	errBadArgs     = status.Error(codes.InvalidArgument, "bad arguments")
)

func newBreakers(t *testing.T, s breaker.Settings, o breaker.Options) *breaker.Breakers {
	t.Helper()
	if o.IsFailure == nil {
		o.IsFailure = providerDown
	}
	b, err := breaker.New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// call runs one call to provider that returns ret, and reports whether fn ran.
func call(b *breaker.Breakers, ctx context.Context, provider string, ret error) (ran bool, err error) {
	err = b.Do(ctx, provider, func() error { ran = true; return ret })
	return ran, err
}

func TestOpensOnConsecutiveFailures(t *testing.T) {
	settings := breaker.Settings{FailureThreshold: 3, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}
	tests := []struct {
		name      string
		calls     []error
		wantState breaker.State
	}{
		{"below the threshold", []error{errUnavailable, errUnavailable}, breaker.StateClosed},
		{"at the threshold", []error{errUnavailable, errDeadline, errUnavailable}, breaker.StateOpen},
		{"invalid argument is not a failure", []error{errBadArgs, errBadArgs, errBadArgs, errBadArgs}, breaker.StateClosed},
		{"an answer resets the count", []error{errUnavailable, errUnavailable, errBadArgs, errUnavailable, errUnavailable}, breaker.StateClosed},
		{"a success resets the count", []error{errUnavailable, errUnavailable, nil, errUnavailable, errUnavailable}, breaker.StateClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBreakers(t, settings, breaker.Options{})
			for i, ret := range tt.calls {
				ran, err := call(b, context.Background(), "p", ret)
				if !ran || !errors.Is(err, ret) {
					t.Fatalf("call %d: ran=%v err=%v, want the call made and its error %v returned", i, ran, err, ret)
				}
			}
			if got := b.State("p"); got != tt.wantState {
				t.Fatalf("state %v, want %v", got, tt.wantState)
			}
			ran, err := call(b, context.Background(), "p", nil)
			if tt.wantState == breaker.StateOpen {
				if ran || !errors.Is(err, breaker.ErrOpen) || !strings.Contains(err.Error(), `"p"`) {
					t.Fatalf("open breaker: ran=%v err=%v, want ErrOpen naming the provider without a call", ran, err)
				}
			} else if !ran || err != nil {
				t.Fatalf("closed breaker: ran=%v err=%v, want the call made", ran, err)
			}
		})
	}
}

func TestCallerGoneCountsNeitherWay(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}, breaker.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	// The caller gives up during the call; the provider's error is then no evidence.
	err := b.Do(ctx, "p", func() error { cancel(); return errDeadline })
	if !errors.Is(err, errDeadline) {
		t.Fatalf("err = %v, want the call's own error", err)
	}
	if got := b.State("p"); got != breaker.StateClosed {
		t.Fatalf("state %v after a call the caller abandoned, want closed", got)
	}
	// A context that ended before the call: no call at all.
	if ran, err := call(b, ctx, "p", nil); ran || !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: ran=%v err=%v, want no call and context.Canceled", ran, err)
	}
}

// waitState polls until provider's breaker reaches want; the open timeout is short,
// so this is a wait, not a timing assertion.
func waitState(t *testing.T, b *breaker.Breakers, provider string, want breaker.State) {
	t.Helper()
	eventually.True(t, 10*time.Second, func() bool { return b.State(provider) == want },
		"the breaker of %s reaches %v", provider, want)
}

func TestHalfOpen(t *testing.T) {
	tests := []struct {
		name            string
		trial           error
		wantOpenedTimes int64
		wantClosed      bool
	}{
		{"a success closes", nil, 1, true},
		{"an answer closes", errBadArgs, 1, true},
		{"a failure opens again", errUnavailable, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Millisecond, HalfOpenMaxRequests: 1}, breaker.Options{})
			reader := observe(t, b)
			if _, err := call(b, context.Background(), "p", errUnavailable); !errors.Is(err, errUnavailable) {
				t.Fatal(err)
			}
			waitState(t, b, "p", breaker.StateHalfOpen)
			// Half-open admits HalfOpenMaxRequests trial calls at once: a second call
			// while the trial runs is rejected without being made.
			var concurrentRan bool
			var concurrentErr error
			err := b.Do(context.Background(), "p", func() error {
				concurrentRan, concurrentErr = call(b, context.Background(), "p", nil)
				return tt.trial
			})
			if !errors.Is(err, tt.trial) {
				t.Fatalf("trial call: %v, want %v", err, tt.trial)
			}
			if concurrentRan || !errors.Is(concurrentErr, breaker.ErrOpen) {
				t.Fatalf("call beside the trial: ran=%v err=%v, want ErrOpen", concurrentRan, concurrentErr)
			}
			m := collect(t, reader)
			if got := m.transitions["p/open"]; got != tt.wantOpenedTimes {
				t.Fatalf("opened %d times, want %d (transitions %v)", got, tt.wantOpenedTimes, m.transitions)
			}
			if closed := m.transitions["p/closed"] == 1; closed != tt.wantClosed {
				t.Fatalf("closed=%v, want %v (transitions %v)", closed, tt.wantClosed, m.transitions)
			}
			if m.transitions["p/half_open"] != 1 {
				t.Fatalf("transitions %v, want one to half_open", m.transitions)
			}
		})
	}
}

func TestOffPassesEverythingThrough(t *testing.T) {
	b := newBreakers(t, breaker.Settings{}, breaker.Options{})
	for i := range 10 {
		if ran, err := call(b, context.Background(), "p", errUnavailable); !ran || !errors.Is(err, errUnavailable) {
			t.Fatalf("call %d: ran=%v err=%v", i, ran, err)
		}
	}
	if got := b.State("p"); got != breaker.StateClosed {
		t.Fatalf("state %v with breaking off", got)
	}
}

func TestProvidersAreIndependentAndBounded(t *testing.T) {
	settings := breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}
	b := newBreakers(t, settings, breaker.Options{MaxProviders: 2})
	if _, err := call(b, context.Background(), "down", errUnavailable); !errors.Is(err, errUnavailable) {
		t.Fatal(err)
	}
	if ran, err := call(b, context.Background(), "up", nil); !ran || err != nil {
		t.Fatalf("another provider: ran=%v err=%v, want the call made", ran, err)
	}
	// A third provider: the closed breaker of "up" makes room; the open one stays.
	if ran, err := call(b, context.Background(), "third", nil); !ran || err != nil {
		t.Fatalf("third provider: ran=%v err=%v", ran, err)
	}
	if got := b.State("down"); got != breaker.StateOpen {
		t.Fatalf("open breaker evicted: state %v", got)
	}
	if ran, err := call(b, context.Background(), "down", nil); ran || !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("down: ran=%v err=%v, want still open", ran, err)
	}
	// Forget drops a breaker: the provider starts afresh.
	b.Forget("down")
	if ran, err := call(b, context.Background(), "down", nil); !ran || err != nil {
		t.Fatalf("after Forget: ran=%v err=%v, want the call made", ran, err)
	}
}

func TestUnguardedWhenFullOfOpenBreakers(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}, breaker.Options{MaxProviders: 1})
	if _, err := call(b, context.Background(), "down", errUnavailable); !errors.Is(err, errUnavailable) {
		t.Fatal(err)
	}
	for i := range 3 {
		if ran, err := call(b, context.Background(), "other", errUnavailable); !ran || !errors.Is(err, errUnavailable) {
			t.Fatalf("call %d: ran=%v err=%v, want an unguarded call", i, ran, err)
		}
	}
	if got := b.State("down"); got != breaker.StateOpen {
		t.Fatalf("state of down %v, want open", got)
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name string
		s    breaker.Settings
		want []string // substrings; none means valid
	}{
		{"defaults", breaker.DefaultSettings(), nil},
		{"off ignores the rest", breaker.Settings{}, nil},
		{"no timeout", breaker.Settings{FailureThreshold: 3, HalfOpenMaxRequests: 1}, []string{"breaker.open_timeout"}},
		{"everything wrong", breaker.Settings{FailureThreshold: 3, OpenTimeout: -time.Second}, []string{"breaker.open_timeout", "breaker.half_open_max_requests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tt.s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if _, nerr := breaker.New(tt.s, breaker.Options{}); nerr == nil {
				t.Error("New accepted invalid settings")
			}
		})
	}
	err := breaker.Settings{FailureThreshold: 1}.ValidateAt("session.breaker")
	if err == nil || !strings.Contains(err.Error(), "session.breaker.open_timeout") {
		t.Fatalf("ValidateAt: %v, want keys under session.breaker", err)
	}
}

func ExampleBreakers_Do() {
	b, _ := breaker.New(breaker.Settings{FailureThreshold: 2, OpenTimeout: time.Minute, HalfOpenMaxRequests: 1},
		breaker.Options{IsFailure: providerDown})
	for range 3 {
		err := b.Do(context.Background(), "weather", func() error { return errUnavailable })
		fmt.Println(status.Code(err), errors.Is(err, breaker.ErrOpen))
	}
	// Output:
	// Unavailable false
	// Unavailable false
	// Unknown true
}

// TestAllow is the two-step form, for calls whose outcome comes later (streams).
func TestAllow(t *testing.T) {
	settings := breaker.Settings{FailureThreshold: 2, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}
	tests := []struct {
		name     string
		outcomes []error // one allowed call each
		wantOpen bool
	}{
		{"failures open", []error{errUnavailable, errDeadline}, true},
		{"answers keep it closed", []error{errUnavailable, errBadArgs, errUnavailable}, false},
		{"successes keep it closed", []error{nil, nil, nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBreakers(t, settings, breaker.Options{})
			for i, outcome := range tt.outcomes {
				done, err := b.Allow(context.Background(), "p")
				if err != nil {
					t.Fatalf("call %d refused: %v", i, err)
				}
				done(outcome)
			}
			_, err := b.Allow(context.Background(), "p")
			if gotOpen := errors.Is(err, breaker.ErrOpen); gotOpen != tt.wantOpen {
				t.Fatalf("after %v: Allow error %v, want open=%v", tt.outcomes, err, tt.wantOpen)
			}
		})
	}

	t.Run("caller gone before the outcome", func(t *testing.T) {
		b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}, breaker.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done, err := b.Allow(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		done(errUnavailable)
		if got := b.State("p"); got != breaker.StateClosed {
			t.Fatalf("state %v, want closed: the caller left", got)
		}
	})
}

func TestDoCountsAPanicAndRepanics(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1},
		breaker.Options{IsFailure: func(error) bool { return true }})
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed")
			}
		}()
		_ = b.Do(context.Background(), "p", func() error { panic("boom") })
	}()
	if got := b.State("p"); got != breaker.StateOpen {
		t.Fatalf("state %v after a panicking call, want open", got)
	}
}

// TestCallsInFlightTogetherFailOnce: the calls on a connection that breaks fail at
// once (a provider replica killed behind a load balancer); they count as one failure,
// and the breaker opens only when calls made after it fail too.
func TestCallsInFlightTogetherFailOnce(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 3, OpenTimeout: time.Hour, HalfOpenMaxRequests: 1}, breaker.Options{})
	var inFlight []func(error)
	for range 10 {
		done, err := b.Allow(context.Background(), "p")
		if err != nil {
			t.Fatal(err)
		}
		inFlight = append(inFlight, done)
	}
	for _, done := range inFlight {
		done(errUnavailable)
	}
	if got := b.State("p"); got != breaker.StateClosed {
		t.Fatalf("after 10 calls in flight together failed: state %v, want closed (one failure counted)", got)
	}
	for i := range 2 {
		if ran, err := call(b, context.Background(), "p", errUnavailable); !ran || !errors.Is(err, errUnavailable) {
			t.Fatalf("call %d after the outage: ran=%v err=%v", i, ran, err)
		}
	}
	if got := b.State("p"); got != breaker.StateOpen {
		t.Fatalf("after two more failed calls made one after another: state %v, want open", got)
	}
}
