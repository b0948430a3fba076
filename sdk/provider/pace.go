package provider

import (
	"context"
	"math/rand/v2"
	"time"
)

// pace is jittered exponential backoff for the registration loop: each failure doubles
// the wait from min up to max, and a wait of d lasts between d/2 and d, so that
// replicas do not retry in step. (The mesh's services share services/kit/backoff; this
// module keeps its own few lines so that providers do not depend on the services' kit.)
type pace struct {
	min, max time.Duration
	attempts int
	next     time.Duration
}

// Next counts a failure and returns the wait before the next attempt.
func (p *pace) Next() time.Duration {
	p.attempts++
	if p.next == 0 {
		p.next = p.min
	}
	d := p.next
	p.next = min(2*p.next, p.max)
	return d/2 + rand.N(d/2+1)
}

// Attempts is the number of failures since the last Reset.
func (p *pace) Attempts() int { return p.attempts }

// Reset starts over after a success.
func (p *pace) Reset() { p.attempts, p.next = 0, 0 }

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
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
