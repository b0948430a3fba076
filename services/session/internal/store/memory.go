package store

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// shardCount spreads sessions over several locks so that concurrent requests of
// different sessions rarely contend.
const shardCount = 32

// Memory is the in-process Store: a sharded map of records.
type Memory struct {
	idle   time.Duration
	now    func() time.Time
	seed   maphash.Seed
	shards [shardCount]shard
	subs   subscriptions
}

type shard struct {
	mu       sync.RWMutex
	sessions map[string]*Session
}

// NewMemory returns an empty store whose sessions expire after idle without activity.
// now is the clock used by Get and friends to hide expired sessions; nil means
// time.Now.
func NewMemory(idle time.Duration, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{idle: idle, now: now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].sessions = map[string]*Session{}
	}
	m.subs = newSubscriptions()
	return m
}

func (m *Memory) shardFor(id string) *shard {
	return &m.shards[maphash.String(m.seed, id)%shardCount]
}

func (m *Memory) expired(s *Session, now time.Time) bool {
	return m.idle > 0 && now.UnixMilli()-s.LastSeenUnixMs > m.idle.Milliseconds()
}

// Create stores a new session.
func (m *Memory) Create(_ context.Context, s Session) error {
	sh := m.shardFor(s.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.sessions[s.ID]; ok && !m.expired(old, m.now()) {
		return fmt.Errorf("create session %s: %w", s.ID, ErrExists)
	}
	rec := s
	sh.sessions[s.ID] = &rec
	return nil
}

// Get returns a copy of the session.
func (m *Memory) Get(_ context.Context, id string) (Session, error) {
	sh := m.shardFor(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	s, ok := sh.sessions[id]
	if !ok || m.expired(s, m.now()) {
		return Session{}, fmt.Errorf("get session %s: %w", id, ErrNotFound)
	}
	return *s, nil
}

// update runs fn on the live record under the shard lock.
func (m *Memory) update(id, op string, fn func(*Session)) error {
	sh := m.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s, ok := sh.sessions[id]
	if !ok || m.expired(s, m.now()) {
		return fmt.Errorf("%s session %s: %w", op, id, ErrNotFound)
	}
	fn(s)
	return nil
}

// Touch records activity.
func (m *Memory) Touch(_ context.Context, id string, now time.Time) error {
	return m.update(id, "touch", func(s *Session) {
		if ms := now.UnixMilli(); ms > s.LastSeenUnixMs {
			s.LastSeenUnixMs = ms
		}
	})
}

// SetLogLevel stores the level set by logging/setLevel.
func (m *Memory) SetLogLevel(_ context.Context, id, level string) error {
	return m.update(id, "set log level of", func(s *Session) { s.LogLevel = level })
}

// MarkInitialized records notifications/initialized.
func (m *Memory) MarkInitialized(_ context.Context, id string) error {
	return m.update(id, "mark initialized", func(s *Session) { s.Initialized = true })
}

// Delete removes the session.
func (m *Memory) Delete(_ context.Context, id string) error {
	sh := m.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s, ok := sh.sessions[id]
	if !ok {
		return fmt.Errorf("delete session %s: %w", id, ErrNotFound)
	}
	delete(sh.sessions, id)
	m.subs.drop(id)
	if m.expired(s, m.now()) {
		return fmt.Errorf("delete session %s: %w", id, ErrNotFound)
	}
	return nil
}

// SweepExpired removes idle sessions, one shard at a time so that requests of other
// shards keep flowing.
func (m *Memory) SweepExpired(ctx context.Context, now time.Time) (int, error) {
	removed := 0
	for i := range m.shards {
		if err := ctx.Err(); err != nil {
			return removed, fmt.Errorf("sweep sessions: %w", err)
		}
		sh := &m.shards[i]
		sh.mu.Lock()
		for id, s := range sh.sessions {
			if m.expired(s, now) {
				delete(sh.sessions, id)
				m.subs.drop(id)
				removed++
			}
		}
		sh.mu.Unlock()
	}
	return removed, nil
}

// Len counts stored sessions, expired ones included until they are swept.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		n += len(sh.sessions)
		sh.mu.RUnlock()
	}
	return n
}

// CountLive counts the sessions that have not expired.
func (m *Memory) CountLive(_ context.Context) (int64, error) {
	now := m.now()
	var n int64
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		for _, s := range sh.sessions {
			if !m.expired(s, now) {
				n++
			}
		}
		sh.mu.RUnlock()
	}
	return n, nil
}
