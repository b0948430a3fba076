// Package hub carries server-initiated messages to the GET (Listen) streams of
// sessions. Listen subscribes; later work (server-to-client requests, list_changed,
// resource updates, PostgreSQL LISTEN/NOTIFY fan-in) publishes. A subscription costs a
// small buffered channel while the stream is open and nothing when it is not.
package hub

import "sync"

// Hub hands out the message feed of one session's Listen stream. The returned
// function ends the subscription; it is safe to call more than once. The channel is
// closed when the subscription ends from either side (unsubscribe or CloseSession).
type Hub interface {
	Subscribe(sessionID string) (<-chan []byte, func())
}

// Buffer is how many messages a subscriber may lag behind before Publish reports it
// full instead of blocking the publisher.
const Buffer = 16

// Memory is the in-process Hub. Each message goes to exactly one stream of the session
// (the spec forbids broadcasting a message to several streams): the oldest subscriber
// with room in its buffer.
type Memory struct {
	mu   sync.Mutex
	subs map[string][]*subscriber
}

type subscriber struct {
	ch     chan []byte
	closed bool
}

// NewMemory returns an empty in-memory hub.
func NewMemory() *Memory { return &Memory{subs: make(map[string][]*subscriber)} }

// Subscribe implements Hub.
func (m *Memory) Subscribe(sessionID string) (<-chan []byte, func()) {
	s := &subscriber{ch: make(chan []byte, Buffer)}
	m.mu.Lock()
	m.subs[sessionID] = append(m.subs[sessionID], s)
	m.mu.Unlock()
	return s.ch, func() { m.unsubscribe(sessionID, s) }
}

func (m *Memory) unsubscribe(sessionID string, s *subscriber) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.ch)
	list := m.subs[sessionID]
	for i, x := range list {
		if x == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(m.subs, sessionID)
	} else {
		m.subs[sessionID] = list
	}
}

// Publish offers msg to one open stream of the session without blocking. It reports
// false when the session has no stream here or every stream's buffer is full; the
// caller then keeps the message (event store) or drops it.
func (m *Memory) Publish(sessionID string, msg []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs[sessionID] {
		select {
		case s.ch <- msg:
			return true
		default:
		}
	}
	return false
}

// CloseSession ends every stream of the session (it was deleted).
func (m *Memory) CloseSession(sessionID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs[sessionID] {
		s.closed = true
		close(s.ch)
	}
	delete(m.subs, sessionID)
}
