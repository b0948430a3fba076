package store

import (
	"context"
	"fmt"
	"sync"
)

// subscriptions is the in-memory store's record of resources/subscribe: each
// session's URIs and, for notifying, each URI's sessions. Sessions that never
// subscribe cost nothing here.
type subscriptions struct {
	mu        sync.Mutex
	bySession map[string]map[string]struct{}
	byURI     map[string]map[string]struct{}
}

func newSubscriptions() subscriptions {
	return subscriptions{bySession: map[string]map[string]struct{}{}, byURI: map[string]map[string]struct{}{}}
}

func (s *subscriptions) add(id, uri string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	uris := s.bySession[id]
	if _, ok := uris[uri]; ok {
		return nil
	}
	if len(uris) >= MaxSubscriptions {
		return fmt.Errorf("subscribe session %s: %w", id, ErrTooManySubscriptions)
	}
	if uris == nil {
		uris = map[string]struct{}{}
		s.bySession[id] = uris
	}
	uris[uri] = struct{}{}
	ids := s.byURI[uri]
	if ids == nil {
		ids = map[string]struct{}{}
		s.byURI[uri] = ids
	}
	ids[id] = struct{}{}
	return nil
}

func (s *subscriptions) remove(id, uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(id, uri)
}

func (s *subscriptions) removeLocked(id, uri string) {
	if uris := s.bySession[id]; uris != nil {
		delete(uris, uri)
		if len(uris) == 0 {
			delete(s.bySession, id)
		}
	}
	if ids := s.byURI[uri]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.byURI, uri)
		}
	}
}

// drop forgets every subscription of an ended session.
func (s *subscriptions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for uri := range s.bySession[id] {
		s.removeLocked(id, uri)
	}
}

func (s *subscriptions) of(uri string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.byURI[uri]))
	for id := range s.byURI[uri] {
		ids = append(ids, id)
	}
	return ids
}

// Subscribe records a resource subscription of a live session.
func (m *Memory) Subscribe(ctx context.Context, id, uri string) error {
	// The shard lock is held across the check and the insert, so a session deleted
	// meanwhile cannot keep a subscription.
	sh := m.shardFor(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s, ok := sh.sessions[id]; !ok || m.expired(s, m.now()) {
		return fmt.Errorf("subscribe session %s: %w", id, ErrNotFound)
	}
	return m.subs.add(id, uri)
}

// Unsubscribe removes a resource subscription of a live session.
func (m *Memory) Unsubscribe(_ context.Context, id, uri string) error {
	if err := m.update(id, "unsubscribe", func(*Session) {}); err != nil {
		return err
	}
	m.subs.remove(id, uri)
	return nil
}

// Subscribers lists the live sessions subscribed to uri.
func (m *Memory) Subscribers(_ context.Context, uri string) ([]string, error) {
	ids := m.subs.of(uri)
	now := m.now()
	live := ids[:0]
	for _, id := range ids {
		sh := m.shardFor(id)
		sh.mu.RLock()
		s, ok := sh.sessions[id]
		if ok && !m.expired(s, now) {
			live = append(live, id)
		}
		sh.mu.RUnlock()
	}
	return live, nil
}
