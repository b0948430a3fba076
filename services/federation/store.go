package federation

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// UpstreamStore keeps the upstreams put through the admin API (the configuration
// file's are not in it). Every federation replica of a mesh shares one store (a
// PostgreSQL table when the mesh has a database), follows its changes and
// reconciles: it connects what was added, reconnects what changed, and disconnects
// and deregisters what was deleted.
type UpstreamStore interface {
	// List returns every stored upstream, ordered by name.
	List(ctx context.Context) ([]StoredUpstream, error)
	// Put creates or replaces the upstream of u's name in one step, and reports
	// whether it created it.
	Put(ctx context.Context, u Upstream) (stored StoredUpstream, created bool, err error)
	// Delete removes the upstream name, and reports whether there was one.
	Delete(ctx context.Context, name string) (bool, error)
	// Follow signals changed after every change, whichever replica made it (signals
	// coalesce; after a signal List shows the change), until ctx ends. It may also
	// signal without a change (a resync).
	Follow(ctx context.Context, changed func())
}

// StoredUpstream is an upstream of the store and when it was last put.
type StoredUpstream struct {
	Upstream
	UpdatedAt time.Time
}

// MemoryStore is the store of a mesh without a database: this process's own, lost at
// exit, seen by this replica only.
type MemoryStore struct {
	mu        sync.Mutex
	upstreams map[string]StoredUpstream
	followers []func()
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{upstreams: map[string]StoredUpstream{}}
}

// List implements UpstreamStore.
func (m *MemoryStore) List(context.Context) ([]StoredUpstream, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]StoredUpstream, 0, len(m.upstreams))
	for _, u := range m.upstreams {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b StoredUpstream) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Put implements UpstreamStore.
func (m *MemoryStore) Put(_ context.Context, u Upstream) (StoredUpstream, bool, error) {
	m.mu.Lock()
	_, existed := m.upstreams[u.Name]
	s := StoredUpstream{Upstream: u, UpdatedAt: time.Now().UTC()}
	m.upstreams[u.Name] = s
	followers := slices.Clone(m.followers)
	m.mu.Unlock()
	for _, f := range followers {
		f()
	}
	return s, !existed, nil
}

// Delete implements UpstreamStore.
func (m *MemoryStore) Delete(_ context.Context, name string) (bool, error) {
	m.mu.Lock()
	_, existed := m.upstreams[name]
	delete(m.upstreams, name)
	followers := slices.Clone(m.followers)
	m.mu.Unlock()
	if existed {
		for _, f := range followers {
			f()
		}
	}
	return existed, nil
}

// Follow implements UpstreamStore.
func (m *MemoryStore) Follow(ctx context.Context, changed func()) {
	m.mu.Lock()
	m.followers = append(m.followers, changed)
	i := len(m.followers) - 1
	m.mu.Unlock()
	// A change made before the follower was added is seen by a read after this.
	changed()
	<-ctx.Done()
	m.mu.Lock()
	m.followers[i] = func() {}
	m.mu.Unlock()
}
