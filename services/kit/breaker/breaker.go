package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// ErrOpen is returned, wrapped with the provider's name, when a provider's breaker
// rejects a call without making it. Map it to codes.Unavailable at the service edge.
var ErrOpen = errors.New("circuit breaker open")

// IsFailure tells whether an error returned by a call counts against the provider.
// It is only called with non-nil errors.
type IsFailure func(err error) bool

// DefaultMaxProviders bounds the breakers kept when Options.MaxProviders is 0.
const DefaultMaxProviders = 1024

// Options are what the caller decides besides the configuration keys.
type Options struct {
	// IsFailure decides which errors count as failures; nil counts every error.
	IsFailure IsFailure
	// MaxProviders bounds the breakers kept at once (0: DefaultMaxProviders). When it
	// is reached a closed breaker is dropped to make room (closed breakers hold only
	// a count of recent failures); when none is closed, calls to a provider without a
	// breaker go through unguarded.
	MaxProviders int
}

// State of one provider's breaker, as the state gauge reports it.
type State int64

// The states, with the gauge's values.
const (
	StateClosed   State = 0
	StateHalfOpen State = 1
	StateOpen     State = 2
)

// String is the value of the transitions counter's "to" attribute.
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateHalfOpen:
		return "half_open"
	case StateOpen:
		return "open"
	default:
		return fmt.Sprintf("state(%d)", int64(s))
	}
}

func fromGobreaker(s gobreaker.State) State {
	switch s {
	case gobreaker.StateHalfOpen:
		return StateHalfOpen
	case gobreaker.StateOpen:
		return StateOpen
	default:
		return StateClosed
	}
}

type circuit = gobreaker.TwoStepCircuitBreaker[struct{}]

// guard is one provider's breaker and when it last counted a failure.
type guard struct {
	cb *circuit

	mu          sync.Mutex
	lastFailure time.Time
}

// sameOutage reports whether a failure of a call started at start belongs to a
// failure already counted: the call was in flight when that failure was recorded, as
// every call on a connection that breaks is (a provider replica killed behind a load
// balancer fails them all at once). Such a failure counts neither way, so that one
// broken connection counts once and the breaker opens only when calls made after a
// failure fail too. Otherwise it records now as the newest failure.
func (g *guard) sameOutage(start time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if start.Before(g.lastFailure) {
		return true
	}
	g.lastFailure = time.Now()
	return false
}

// Breakers keeps one breaker per provider, created on the provider's first call.
type Breakers struct {
	settings  Settings
	isFailure IsFailure
	max       int

	mu         sync.RWMutex
	byProvider map[string]*guard

	// onTransition is set by Observe; breakers call it when their state changes.
	onTransition atomic.Pointer[func(provider string, to State)]
}

// New validates s and returns an empty set of breakers.
func New(s Settings, o Options) (*Breakers, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	isFailure := o.IsFailure
	if isFailure == nil {
		isFailure = func(error) bool { return true }
	}
	maxProviders := o.MaxProviders
	if maxProviders <= 0 {
		maxProviders = DefaultMaxProviders
	}
	return &Breakers{settings: s, isFailure: isFailure, max: maxProviders, byProvider: map[string]*guard{}}, nil
}

// Do runs fn unless provider's breaker is open, and records its outcome. It returns
// fn's error unchanged, or an error wrapping ErrOpen when fn was not run. An error
// returned while ctx has ended is the caller's doing and counts neither way.
func (b *Breakers) Do(ctx context.Context, provider string, fn func() error) (err error) {
	done, err := b.Allow(ctx, provider)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			done(fmt.Errorf("panic: %v", p))
			panic(p)
		}
		done(err)
	}()
	return fn()
}

// Allow asks provider's breaker for one call whose outcome is known later, such as a
// stream whose first message tells whether the provider answered. It returns an error
// wrapping ErrOpen (or ctx's error) when the call must not be made; otherwise the
// caller makes it and calls done exactly once with its error (nil for a success).
func (b *Breakers) Allow(ctx context.Context, provider string) (done func(error), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.settings.FailureThreshold == 0 {
		return noop, nil
	}
	g := b.breaker(provider)
	if g == nil {
		return noop, nil
	}
	start := time.Now()
	record, err := g.cb.Allow()
	if err != nil {
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return nil, fmt.Errorf("provider %q: %w", provider, ErrOpen)
		}
		return nil, err
	}
	return func(err error) {
		switch {
		case err == nil:
		case ctx.Err() != nil:
			err = callerGone{err}
		case b.isFailure(err) && g.sameOutage(start):
			err = inFlightAtFailure{err}
		}
		record(err)
	}, nil
}

func noop(error) {}

// State is the current state of provider's breaker (closed when it has none).
func (b *Breakers) State(provider string) State {
	b.mu.RLock()
	g := b.byProvider[provider]
	b.mu.RUnlock()
	if g == nil {
		return StateClosed
	}
	return fromGobreaker(g.cb.State())
}

// Forget drops provider's breaker, for a provider that left the registry.
func (b *Breakers) Forget(provider string) {
	b.mu.Lock()
	delete(b.byProvider, provider)
	b.mu.Unlock()
}

// each calls fn with every provider's current state.
func (b *Breakers) each(fn func(provider string, s State)) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for name, g := range b.byProvider {
		fn(name, fromGobreaker(g.cb.State()))
	}
}

// breaker returns provider's breaker, creating it on first use; nil when the bound
// is reached and no closed breaker can make room.
func (b *Breakers) breaker(provider string) *guard {
	b.mu.RLock()
	g := b.byProvider[provider]
	b.mu.RUnlock()
	if g != nil {
		return g
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if g = b.byProvider[provider]; g != nil {
		return g
	}
	if len(b.byProvider) >= b.max && !b.evictClosedLocked() {
		return nil
	}
	cb := gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        provider,
		MaxRequests: b.settings.HalfOpenMaxRequests,
		Timeout:     b.settings.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= b.settings.FailureThreshold
		},
		// Errors the caller does not count as failures show the provider answering.
		IsSuccessful: func(err error) bool { return err == nil || !b.isFailure(err) },
		IsExcluded: func(err error) bool {
			var gone callerGone
			var overlapped inFlightAtFailure
			return errors.As(err, &gone) || errors.As(err, &overlapped)
		},
		OnStateChange: func(name string, _, to gobreaker.State) {
			if f := b.onTransition.Load(); f != nil {
				(*f)(name, fromGobreaker(to))
			}
		},
	})
	g = &guard{cb: cb}
	b.byProvider[provider] = g
	return g
}

// evictClosedLocked drops one closed breaker; it reports whether it found one.
func (b *Breakers) evictClosedLocked() bool {
	for name, g := range b.byProvider {
		if g.cb.State() == gobreaker.StateClosed {
			delete(b.byProvider, name)
			return true
		}
	}
	return false
}

// callerGone marks an error returned after the caller's context ended.
type callerGone struct{ err error }

func (c callerGone) Error() string { return c.err.Error() }
func (c callerGone) Unwrap() error { return c.err }

// inFlightAtFailure marks a failure of a call that was in flight when another
// failure of the same provider was counted (guard.sameOutage).
type inFlightAtFailure struct{ err error }

func (f inFlightAtFailure) Error() string { return f.err.Error() }
func (f inFlightAtFailure) Unwrap() error { return f.err }
