package events

import (
	"context"
	"sync"
	"time"
)

// Memory is the in-process Log. Each session keeps at most its cap of recent events;
// sessions that never had an event cost nothing.
type Memory struct {
	waker *Waker
	cap   int
	now   func() time.Time

	mu       sync.Mutex
	sessions map[string]*memorySession
}

type memorySession struct {
	head   int64
	events []memoryEvent // ascending Seq, the last one is head
}

type memoryEvent struct {
	Event
	origin string
	at     time.Time
}

// NewMemory returns an empty log keeping up to perSession events of each session and
// waking readers through waker. now is the clock for Sweep (nil: time.Now).
func NewMemory(perSession int, waker *Waker, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{waker: waker, cap: max(perSession, 1), now: now, sessions: map[string]*memorySession{}}
}

// Append implements Log.
func (m *Memory) Append(_ context.Context, sessionID string, drafts ...Draft) error {
	if len(drafts) == 0 {
		return nil
	}
	at := m.now()
	m.mu.Lock()
	s := m.sessions[sessionID]
	if s == nil {
		s = &memorySession{}
		m.sessions[sessionID] = s
	}
	appended := false
	for _, d := range drafts {
		if d.Origin != "" && s.hasOrigin(d.Origin) {
			continue
		}
		s.head++
		s.events = append(s.events, memoryEvent{Event: Event{Seq: s.head, Method: d.Method, Params: d.Params}, origin: d.Origin, at: at})
		appended = true
	}
	if over := len(s.events) - m.cap; over > 0 {
		s.events = append(s.events[:0], s.events[over:]...)
	}
	m.mu.Unlock()
	if appended {
		m.waker.Wake(sessionID)
	}
	return nil
}

func (s *memorySession) hasOrigin(origin string) bool {
	for i := range s.events {
		if s.events[i].origin == origin {
			return true
		}
	}
	return false
}

// Read implements Log.
func (m *Memory) Read(_ context.Context, sessionID string, after int64, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[sessionID]
	if s == nil {
		return nil, nil
	}
	var out []Event
	for i := range s.events {
		if len(out) == limit {
			break
		}
		if s.events[i].Seq > after {
			out = append(out, s.events[i].Event)
		}
	}
	return out, nil
}

// Window implements Log.
func (m *Memory) Window(_ context.Context, sessionID string) (Window, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[sessionID]
	if s == nil {
		return Window{First: 1}, nil
	}
	if len(s.events) == 0 {
		return Window{First: s.head + 1, Head: s.head}, nil
	}
	return Window{First: s.events[0].Seq, Head: s.head}, nil
}

// Forget implements Log.
func (m *Memory) Forget(_ context.Context, sessionID string) error {
	m.mu.Lock()
	delete(m.sessions, sessionID)
	m.mu.Unlock()
	m.waker.Wake(sessionID)
	return nil
}

// Sweep implements Log. A session whose events all expired is dropped: a reader
// resuming from one of them is then told to start afresh, which is what it would be
// told anyway.
func (m *Memory) Sweep(ctx context.Context, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	removed := 0
	for id, s := range m.sessions {
		n := 0
		for n < len(s.events) && s.events[n].at.Before(before) {
			n++
		}
		if n > 0 {
			s.events = append(s.events[:0], s.events[n:]...)
			removed += n
		}
		if len(s.events) == 0 {
			delete(m.sessions, id)
		}
	}
	return removed, ctx.Err()
}
