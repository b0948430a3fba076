package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

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

// Breakers keeps one breaker per provider, created on the provider's first call.
type Breakers struct {
	settings  Settings
	isFailure IsFailure
	max       int

	mu         sync.RWMutex
	byProvider map[string]*circuit

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
	return &Breakers{settings: s, isFailure: isFailure, max: maxProviders, byProvider: map[string]*circuit{}}, nil
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
	cb := b.breaker(provider)
	if cb == nil {
		return noop, nil
	}
	record, err := cb.Allow()
	if err != nil {
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return nil, fmt.Errorf("provider %q: %w", provider, ErrOpen)
		}
		return nil, err
	}
	return func(err error) {
		if err != nil && ctx.Err() != nil {
			err = callerGone{err}
		}
		record(err)
	}, nil
}

func noop(error) {}

// State is the current state of provider's breaker (closed when it has none).
func (b *Breakers) State(provider string) State {
	b.mu.RLock()
	cb := b.byProvider[provider]
	b.mu.RUnlock()
	if cb == nil {
		return StateClosed
	}
	return fromGobreaker(cb.State())
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
	for name, cb := range b.byProvider {
		fn(name, fromGobreaker(cb.State()))
	}
}

// breaker returns provider's breaker, creating it on first use; nil when the bound
// is reached and no closed breaker can make room.
func (b *Breakers) breaker(provider string) *circuit {
	b.mu.RLock()
	cb := b.byProvider[provider]
	b.mu.RUnlock()
	if cb != nil {
		return cb
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if cb = b.byProvider[provider]; cb != nil {
		return cb
	}
	if len(b.byProvider) >= b.max && !b.evictClosedLocked() {
		return nil
	}
	cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
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
			return errors.As(err, &gone)
		},
		OnStateChange: func(name string, _, to gobreaker.State) {
			if f := b.onTransition.Load(); f != nil {
				(*f)(name, fromGobreaker(to))
			}
		},
	})
	b.byProvider[provider] = cb
	return cb
}

// evictClosedLocked drops one closed breaker; it reports whether it found one.
func (b *Breakers) evictClosedLocked() bool {
	for name, cb := range b.byProvider {
		if cb.State() == gobreaker.StateClosed {
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
