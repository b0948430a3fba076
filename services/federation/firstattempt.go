package federation

import (
	"slices"
	"sync"
)

// firstAttempts records, per provider, whether its first attempt (an upstream's first
// connection, a gRPC service's first reading of its descriptors) has ended and how. A
// process is not ready while an attempt is still running, so that clients that list
// as soon as it is ready do not get (and, in the 2026-07-28 generation, cache for
// session.cache_ttl) a catalogue without providers that were about to register.
type firstAttempts struct {
	mu        sync.Mutex
	pending   map[string]bool
	succeeded []string
}

func newFirstAttempts(names []string) *firstAttempts {
	f := &firstAttempts{pending: make(map[string]bool, len(names))}
	for _, n := range names {
		f.pending[n] = true
	}
	return f
}

// storeReading stands, among the first attempts, for the first reading of the
// upstream store: until it succeeds the stored upstreams are not known yet.
const storeReading = "the stored upstreams"

// add records first attempts starting (the stored upstreams read at start).
func (f *firstAttempts) add(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		f.pending[n] = true
	}
}

// forget drops name, whose provider is gone (a deleted stored upstream): it neither
// holds readiness up nor is expected in the catalogue any more.
func (f *firstAttempts) forget(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.pending, name)
	f.succeeded = slices.DeleteFunc(f.succeeded, func(n string) bool { return n == name })
}

// done records the end of name's first attempt; later calls change nothing.
func (f *firstAttempts) done(name string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.pending[name] {
		return
	}
	delete(f.pending, name)
	if ok {
		f.succeeded = append(f.succeeded, name)
	}
}

// FirstAttempts reports the providers whose first attempt is still running, and those
// whose first attempt succeeded (they register, or have registered, with the
// registry); both sorted. A provider whose first attempt failed is in neither: it is
// retried in the background and registers when it succeeds.
func (s *Service) FirstAttempts() (running, succeeded []string) {
	f := s.first
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := range f.pending {
		running = append(running, n)
	}
	slices.Sort(running)
	succeeded = slices.Sorted(slices.Values(f.succeeded))
	return running, succeeded
}
