// Package fanout hands change notices (a list changed, a resource was updated, a task
// changed) to the
// subscriptions/listen requests open on this replica (the 2026-07-28 generation).
// Every replica hears every change, so each listener is served by the replica that
// holds its request; nothing is stored.
package fanout

import "sync"

// Kinds of list whose changes a listener may ask for.
const (
	Tools     = "tools"
	Resources = "resources"
	Prompts   = "prompts"
)

// Buffer is how many notices a listener may lag behind. A listener that falls
// further behind is ended (Lagged), so that a slow client cannot hold memory or
// delay the others; it can listen again and re-list.
const Buffer = 64

// Filter is what a listener asked for.
type Filter struct {
	// Lists holds the kinds whose list_changed the listener wants.
	Lists map[string]bool
	// Resources holds the URIs whose updates the listener wants.
	Resources map[string]bool
	// Tasks holds the ids of the tasks whose status changes the listener wants.
	Tasks map[string]bool
}

// Notice is one change: a list kind, a resource URI, or a task id.
type Notice struct {
	List string
	URI  string
	Task string
}

// Listener receives the notices its filter selects on C until Done is closed.
type Listener struct {
	filter Filter
	c      chan Notice
	done   chan struct{}
	// set under Hub.mu before done is closed
	lagged bool
	ended  bool
}

// C delivers notices.
func (l *Listener) C() <-chan Notice { return l.c }

// Done is closed when the hub ends the listener: at shutdown or when it lagged.
func (l *Listener) Done() <-chan struct{} { return l.done }

// Lagged reports whether the listener was ended for falling behind (read after Done).
func (l *Listener) Lagged() bool { return l.lagged }

// Hub is the set of open listeners. It is safe for concurrent use.
type Hub struct {
	mu        sync.Mutex
	listeners map[*Listener]struct{}
	closed    bool
}

// New returns a hub without listeners.
func New() *Hub { return &Hub{listeners: map[*Listener]struct{}{}} }

// Listen adds a listener; the returned function removes it. A closed hub returns a
// listener that is already done.
func (h *Hub) Listen(f Filter) (*Listener, func()) {
	l := &Listener{filter: f, c: make(chan Notice, Buffer), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		l.ended = true
		close(l.done)
		return l, func() {}
	}
	h.listeners[l] = struct{}{}
	return l, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.listeners, l)
	}
}

// Len counts the open listeners.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.listeners)
}

// Publish offers n to every listener that asked for it.
func (h *Hub) Publish(n Notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners {
		if !l.wants(n) {
			continue
		}
		select {
		case l.c <- n:
		default:
			l.lagged = true
			h.endLocked(l)
		}
	}
}

func (l *Listener) wants(n Notice) bool {
	switch {
	case n.URI != "":
		return l.filter.Resources[n.URI]
	case n.Task != "":
		return l.filter.Tasks[n.Task]
	}
	return l.filter.Lists[n.List]
}

func (h *Hub) endLocked(l *Listener) {
	if l.ended {
		return
	}
	l.ended = true
	close(l.done)
	delete(h.listeners, l)
}

// Close ends every listener (the service is stopping) and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for l := range h.listeners {
		h.endLocked(l)
	}
}
