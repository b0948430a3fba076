package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory is the in-process Store of the single-process default.
type Memory struct {
	mu      sync.RWMutex
	records map[string]Record
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{records: map[string]Record{}} }

// Put implements Store.
func (m *Memory) Put(_ context.Context, rec Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec.Announced = m.records[rec.Name].Announced
	m.records[rec.Name] = rec
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, name string) (Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rec, ok := m.records[name]
	if !ok {
		return Record{}, fmt.Errorf("get %s: %w", name, ErrNotFound)
	}
	return rec, nil
}

// Renew implements Store.
func (m *Memory) Renew(_ context.Context, name, leaseID string, now time.Time) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.records[name]
	if !ok || rec.Static() || rec.LeaseID != leaseID || rec.Expired(now) {
		return Record{}, fmt.Errorf("renew %s: %w", name, ErrNotFound)
	}
	rec.LeaseExpiresAt = now.Add(rec.Lease)
	m.records[name] = rec
	return rec, nil
}

// Redescribe implements Store.
func (m *Memory) Redescribe(_ context.Context, rec Record, announce Announced) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.records[rec.Name]
	if !ok || cur.LeaseID != rec.LeaseID || cur.Address != rec.Address {
		return Record{}, fmt.Errorf("redescribe %s: %w", rec.Name, ErrNotFound)
	}
	cur.Version, cur.Instructions, cur.Catalogue = rec.Version, rec.Instructions, rec.Catalogue
	cur.Announced = cur.Announced.add(announce)
	m.records[rec.Name] = cur
	return cur, nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, name, leaseID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.records[name]
	if !ok || rec.LeaseID != leaseID {
		return fmt.Errorf("delete %s: %w", name, ErrNotFound)
	}
	delete(m.records, name)
	return nil
}

// DeleteExpired implements Store.
func (m *Memory) DeleteExpired(_ context.Context, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var removed []string
	for name, rec := range m.records {
		if rec.Expired(now) {
			delete(m.records, name)
			removed = append(removed, name)
		}
	}
	return removed, nil
}

// List implements Store.
func (m *Memory) List(_ context.Context) ([]Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Record, 0, len(m.records))
	for _, rec := range m.records {
		out = append(out, rec)
	}
	return out, nil
}
