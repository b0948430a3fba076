package events

import "sync"

// Waker wakes the readers of a session when its events change. A reader takes the
// current channel before reading the store and waits on it after: an append between
// the two closes it, so no event is missed.
type Waker struct {
	mu      sync.Mutex
	entries map[string]*wakeEntry
}

type wakeEntry struct {
	ch   chan struct{}
	refs int
}

// NewWaker returns a Waker with no readers.
func NewWaker() *Waker { return &Waker{entries: map[string]*wakeEntry{}} }

// Watch registers a reader of the session; call Close on the result when it leaves.
// A session without readers costs nothing.
func (w *Waker) Watch(sessionID string) *Watch {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entries[sessionID]
	if e == nil {
		e = &wakeEntry{ch: make(chan struct{})}
		w.entries[sessionID] = e
	}
	e.refs++
	return &Watch{waker: w, sessionID: sessionID}
}

// Wake closes the session's current channel, if it has readers.
func (w *Waker) Wake(sessionID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.entries[sessionID]; e != nil {
		close(e.ch)
		e.ch = make(chan struct{})
	}
}

// Watching lists the sessions that have readers.
func (w *Waker) Watching() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, 0, len(w.entries))
	for id := range w.entries {
		ids = append(ids, id)
	}
	return ids
}

// Watch is one reader's registration.
type Watch struct {
	waker     *Waker
	sessionID string
	closed    bool
}

// C returns the channel that the next Wake closes.
func (r *Watch) C() <-chan struct{} {
	r.waker.mu.Lock()
	defer r.waker.mu.Unlock()
	return r.waker.entries[r.sessionID].ch
}

// Close ends the registration; it is safe to call more than once.
func (r *Watch) Close() {
	r.waker.mu.Lock()
	defer r.waker.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	e := r.waker.entries[r.sessionID]
	if e.refs--; e.refs == 0 {
		delete(r.waker.entries, r.sessionID)
	}
}

// WakeAll wakes the readers of every session: after a gap in cross-replica
// notifications (a reconnect, a poll) they re-read the store and catch up.
func (w *Waker) WakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.entries {
		close(e.ch)
		e.ch = make(chan struct{})
	}
}
