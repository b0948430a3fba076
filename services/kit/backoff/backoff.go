// Package backoff is the one retry pacing of the mesh: jittered exponential backoff
// that resets after a success and waits on a context. Every reconnect and retry loop
// (watch streams, the LISTEN connection, provider registration, static providers)
// uses it, so they all behave, and are tuned, the same way.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Config bounds the waits. Zero fields take the defaults.
type Config struct {
	// Min is the first wait (default 100ms); each failure multiplies it by Factor
	// (default 2) up to Max (default 10s).
	Min, Max time.Duration
	Factor   float64
	// Jitter is the share of each wait that is random, 0 to 1 (default 0.5): a wait
	// of d lasts between d·(1-Jitter) and d, so that replicas do not retry in step.
	// Negative means none.
	Jitter float64
}

// Defaults of Config.
const (
	DefaultMin    = 100 * time.Millisecond
	DefaultMax    = 10 * time.Second
	DefaultFactor = 2
	DefaultJitter = 0.5
)

func (c Config) withDefaults() Config {
	if c.Min <= 0 {
		c.Min = DefaultMin
	}
	if c.Max <= 0 {
		c.Max = DefaultMax
	}
	c.Max = max(c.Max, c.Min)
	if c.Factor < 1 {
		c.Factor = DefaultFactor
	}
	switch {
	case c.Jitter == 0:
		c.Jitter = DefaultJitter
	case c.Jitter < 0:
		c.Jitter = 0
	case c.Jitter > 1:
		c.Jitter = 1
	}
	return c
}

// Backoff paces the attempts of one loop. It is not safe for concurrent use: each
// loop owns its own.
type Backoff struct {
	cfg      Config
	attempts int           // failures since the last Reset
	next     time.Duration // the un-jittered wait after the next failure
}

// New returns a Backoff whose first wait is cfg.Min.
func New(cfg Config) *Backoff {
	b := &Backoff{cfg: cfg.withDefaults()}
	b.Reset()
	return b
}

// Reset starts over after a success: the next wait is Min again.
func (b *Backoff) Reset() {
	b.attempts = 0
	b.next = b.cfg.Min
}

// Attempts counts the failures since the last Reset.
func (b *Backoff) Attempts() int { return b.attempts }

// Next counts a failure and returns how long to wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	b.attempts++
	d := b.next
	if grown := time.Duration(float64(d) * b.cfg.Factor); grown > d && grown < b.cfg.Max {
		b.next = grown
	} else {
		b.next = b.cfg.Max
	}
	if random := time.Duration(float64(d) * b.cfg.Jitter); random > 0 {
		d -= rand.N(random + 1)
	}
	return d
}

// Wait counts a failure and sleeps the next wait. It reports false, at once, when
// ctx ends first.
func (b *Backoff) Wait(ctx context.Context) bool {
	return Sleep(ctx, b.Next())
}

// Sleep waits d, or until ctx ends; it reports whether the whole wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
