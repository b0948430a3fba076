package tasks

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is the Store of one process.
type Memory struct {
	now func() time.Time

	mu    sync.Mutex
	tasks map[string]*Task
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store; now is its clock (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, tasks: map[string]*Task{}}
}

// live returns the record of id unless it is missing or expired. Call with mu held.
func (m *Memory) live(id string) (*Task, bool) {
	t, ok := m.tasks[id]
	if !ok || t.ExpiresUnixMs() <= nowMs(m.now) {
		return nil, false
	}
	return t, true
}

// Create implements Store.
func (m *Memory) Create(_ context.Context, t Task) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tasks[t.ID]; ok {
		return fmt.Errorf("create task %s: %w", t.ID, ErrExists)
	}
	m.tasks[t.ID] = &t
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id string) (Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.live(id)
	if !ok {
		return Task{}, fmt.Errorf("get task %s: %w", id, ErrNotFound)
	}
	return *t, nil
}

// List implements Store.
func (m *Memory) List(_ context.Context, sessionID string, after Position, limit int) ([]Task, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Task
	for id := range m.tasks {
		t, ok := m.live(id)
		if ok && t.SessionID == sessionID && comparePosition(Position{t.CreatedUnixMs, t.ID}, after) > 0 {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b Task) int {
		return comparePosition(Position{a.CreatedUnixMs, a.ID}, Position{b.CreatedUnixMs, b.ID})
	})
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

func comparePosition(a, b Position) int {
	if c := cmp.Compare(a.CreatedUnixMs, b.CreatedUnixMs); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Finish implements Store.
func (m *Memory) Finish(_ context.Context, id string, o Outcome) (Task, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.live(id)
	if !ok {
		return Task{}, false, fmt.Errorf("finish task %s: %w", id, ErrNotFound)
	}
	if t.Status.Terminal() {
		return *t, false, nil
	}
	t.Status, t.StatusMessage, t.Result, t.Error = o.Status, o.StatusMessage, o.Result, o.Error
	t.UpdatedUnixMs = max(nowMs(m.now), t.UpdatedUnixMs)
	return *t, true, nil
}

// Cancel implements Store.
func (m *Memory) Cancel(_ context.Context, id, message string) (Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.live(id)
	if !ok {
		return Task{}, fmt.Errorf("cancel task %s: %w", id, ErrNotFound)
	}
	if t.Status.Terminal() {
		return *t, fmt.Errorf("cancel task %s: %w", id, ErrTerminal)
	}
	t.Status, t.StatusMessage = Cancelled, message
	t.UpdatedUnixMs = max(nowMs(m.now), t.UpdatedUnixMs)
	return *t, nil
}

// CancelledAmong implements Store.
func (m *Memory) CancelledAmong(_ context.Context, ids []string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, id := range ids {
		if t, ok := m.live(id); !ok || t.Status == Cancelled {
			out = append(out, id)
		}
	}
	return out, nil
}

// Sweep implements Store.
func (m *Memory) Sweep(_ context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, now := 0, nowMs(m.now)
	for id, t := range m.tasks {
		if t.ExpiresUnixMs() <= now {
			delete(m.tasks, id)
			n++
		}
	}
	return n, nil
}

// AwaitInput implements Store.
func (m *Memory) AwaitInput(_ context.Context, id string, requests []byte, message string) (Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.live(id)
	if !ok {
		return Task{}, fmt.Errorf("await input of task %s: %w", id, ErrNotFound)
	}
	if t.Status.Terminal() {
		return *t, fmt.Errorf("await input of task %s: %w", id, ErrTerminal)
	}
	t.Status, t.StatusMessage, t.InputRequests, t.InputResponses = InputRequired, message, requests, nil
	t.UpdatedUnixMs = max(nowMs(m.now), t.UpdatedUnixMs)
	return *t, nil
}

// AddInput implements Store.
func (m *Memory) AddInput(_ context.Context, id string, answers map[string][]byte) (Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.live(id)
	if !ok {
		return Task{}, fmt.Errorf("add input to task %s: %w", id, ErrNotFound)
	}
	if t.Status != InputRequired {
		return *t, nil
	}
	requests, responses, moved, err := takeAnswers(t.InputRequests, t.InputResponses, answers)
	if err != nil {
		return Task{}, fmt.Errorf("add input to task %s: %w", id, err)
	}
	if moved {
		t.InputRequests, t.InputResponses = requests, responses
		t.UpdatedUnixMs = max(nowMs(m.now), t.UpdatedUnixMs)
	}
	return *t, nil
}

// Resume implements Store.
func (m *Memory) Resume(_ context.Context, id, message string) (Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.live(id)
	if !ok {
		return Task{}, fmt.Errorf("resume task %s: %w", id, ErrNotFound)
	}
	if t.Status.Terminal() {
		return *t, fmt.Errorf("resume task %s: %w", id, ErrTerminal)
	}
	t.Status, t.StatusMessage, t.InputRequests, t.InputResponses = Working, message, nil, nil
	t.UpdatedUnixMs = max(nowMs(m.now), t.UpdatedUnixMs)
	return *t, nil
}

// CountActive implements Store.
func (m *Memory) CountActive(_ context.Context, sessionID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id := range m.tasks {
		if t, ok := m.live(id); ok && t.SessionID == sessionID && !t.Status.Terminal() {
			n++
		}
	}
	return n, nil
}

// CountActiveOwned implements Store.
func (m *Memory) CountActiveOwned(_ context.Context, owner string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id := range m.tasks {
		if t, ok := m.live(id); ok && t.Owner == owner && !t.Status.Terminal() {
			n++
		}
	}
	return n, nil
}
