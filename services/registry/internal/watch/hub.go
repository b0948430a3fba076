// Package watch fans the latest value out to any number of watchers without ever
// blocking the publisher: each watcher is woken through a one-slot channel and reads
// the newest value when it is ready, so bursts coalesce and a slow watcher only ever
// misses intermediate values, never the latest one.
package watch

import "sync"

// Hub holds the current value and the watchers waiting for the next one.
type Hub[T any] struct {
	mu       sync.Mutex
	current  T
	watchers map[*Subscription[T]]struct{}
	closed   chan struct{}
	isClosed bool
}

// NewHub returns a hub whose current value is initial.
func NewHub[T any](initial T) *Hub[T] {
	return &Hub[T]{current: initial, watchers: map[*Subscription[T]]struct{}{}, closed: make(chan struct{})}
}

// Publish makes v the current value and wakes every watcher. It never blocks on a
// watcher.
func (h *Hub[T]) Publish(v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.current = v
	for s := range h.watchers {
		select {
		case s.wake <- struct{}{}:
		default: // already woken; it will read the newest value anyway
		}
	}
}

// Current returns the current value.
func (h *Hub[T]) Current() T {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.current
}

// Subscribe registers a watcher. Call Close on it when done.
func (h *Hub[T]) Subscribe() *Subscription[T] {
	s := &Subscription[T]{hub: h, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.isClosed {
		h.watchers[s] = struct{}{}
	}
	return s
}

// Close ends every subscription: their Done channels close.
func (h *Hub[T]) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.isClosed {
		h.isClosed = true
		close(h.closed)
		clear(h.watchers)
	}
}

// Subscription is one watcher of a Hub.
type Subscription[T any] struct {
	hub  *Hub[T]
	wake chan struct{}
}

// Wake receives after every Publish since the last receive (several coalesce into one).
func (s *Subscription[T]) Wake() <-chan struct{} { return s.wake }

// Done closes when the hub closes.
func (s *Subscription[T]) Done() <-chan struct{} { return s.hub.closed }

// Latest returns the hub's current value.
func (s *Subscription[T]) Latest() T { return s.hub.Current() }

// Close unregisters the watcher.
func (s *Subscription[T]) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	delete(s.hub.watchers, s)
}
