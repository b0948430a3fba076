// Package latest holds the newest health result and wakes watchers when its statuses
// change. Publishing never blocks: a watcher that is slow to send simply reads the
// newest value when it comes back (latest-value semantics).
package latest

import (
	"sync"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
)

// Value is the newest CheckResponse. It is safe for concurrent use. Stored responses
// are shared and must not be modified.
type Value struct {
	mu      sync.Mutex
	current *healthv1.CheckResponse
	// changed is closed, and replaced, when a stored result differs in statuses from
	// the previous one.
	changed chan struct{}
}

// New returns an empty Value.
func New() *Value {
	return &Value{changed: make(chan struct{})}
}

// Load returns the newest result, or nil before the first Store.
func (v *Value) Load() *healthv1.CheckResponse {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.current
}

// LoadWithChange returns the newest result and a channel closed at the next status
// change after it.
func (v *Value) LoadWithChange() (*healthv1.CheckResponse, <-chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.current, v.changed
}

// Store makes resp the newest result and wakes watchers if any status changed.
func (v *Value) Store(resp *healthv1.CheckResponse) {
	v.mu.Lock()
	defer v.mu.Unlock()
	previous := v.current
	v.current = resp
	if previous == nil || !SameStatuses(previous, resp) {
		close(v.changed)
		v.changed = make(chan struct{})
	}
}

// SameStatuses reports whether a and b have the same aggregate status and the same
// components with the same statuses. Timestamps, latencies and messages are ignored:
// they change every round.
func SameStatuses(a, b *healthv1.CheckResponse) bool {
	if a.GetStatus() != b.GetStatus() || len(a.GetComponents()) != len(b.GetComponents()) {
		return false
	}
	bc := b.GetComponents()
	for i, ca := range a.GetComponents() {
		cb := bc[i]
		if ca.GetKind() != cb.GetKind() || ca.GetName() != cb.GetName() || ca.GetStatus() != cb.GetStatus() {
			return false
		}
	}
	return true
}
