package pending

import (
	"context"
	"fmt"
	"sync"

	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// Memory is the in-process Store.
type Memory struct {
	mu      sync.Mutex
	waiters map[string]*memoryWaiter
}

// NewMemory returns a store with no waiters.
func NewMemory() *Memory { return &Memory{waiters: map[string]*memoryWaiter{}} }

type memoryWaiter struct {
	m   *Memory
	key string
	c   chan Answer
}

// Key normalises (session, id) so that equivalent JSON ids ("a" and "\u0061") match.
// ok is false for an id that cannot be a request id.
func Key(sessionID string, id []byte) (string, bool) {
	norm, ok := mcpjson.NormalizeID(id)
	if !ok {
		return "", false
	}
	return sessionID + "\x00" + norm, true
}

// Expect implements Store.
func (m *Memory) Expect(_ context.Context, sessionID string, id []byte) (Waiter, error) {
	key, ok := Key(sessionID, id)
	if !ok {
		return nil, fmt.Errorf("expect answer to %s: invalid request id", id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.waiters[key]; dup {
		return nil, fmt.Errorf("expect answer to %s: %w", id, ErrExists)
	}
	w := &memoryWaiter{m: m, key: key, c: make(chan Answer, 1)}
	m.waiters[key] = w
	return w, nil
}

// Deliver implements Store.
func (m *Memory) Deliver(_ context.Context, sessionID string, id []byte, a Answer) (bool, error) {
	key, ok := Key(sessionID, id)
	if !ok {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.waiters[key]
	if !ok {
		return false, nil
	}
	delete(m.waiters, key)
	w.c <- a // buffered for exactly this one answer
	return true, nil
}

func (w *memoryWaiter) C() <-chan Answer { return w.c }

func (w *memoryWaiter) Close() {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if cur, ok := w.m.waiters[w.key]; ok && cur == w {
		delete(w.m.waiters, w.key)
	}
}
