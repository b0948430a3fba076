package apikey

import (
	"errors"
	"slices"
	"sync"
	"time"
)

// Source gives a verifier the records it checks keys against, kept in memory so that
// a request costs no store access: a FileSource (the in-memory mode) or a Follower (a
// mesh with a database).
type Source interface {
	// Current returns the records as they are at now, or an error when they cannot be
	// vouched for (the store could not be read, or not recently enough to honour a
	// revocation in time): then no key is accepted.
	Current(now time.Time) (Snapshot, error)
	// Used notes that the key with this hash authenticated at at; the source writes
	// last uses out in batches.
	Used(hash string, at time.Time)
}

// Snapshot is the records at one time.
type Snapshot struct {
	// Generation changes whenever Records do, so a verifier rebuilds its index only then.
	Generation uint64
	Records    []Record
}

// SameKeys reports whether two record lists authenticate alike (last uses aside).
func SameKeys(a, b []Record) bool {
	return slices.EqualFunc(a, b, func(x, y Record) bool {
		return x.Name == y.Name && x.Hash == y.Hash && slices.Equal(x.Scopes, y.Scopes) &&
			x.ExpiresAt.Equal(y.ExpiresAt) && x.RevokedAt.Equal(y.RevokedAt)
	})
}

// FileSource follows a FileStore: Current re-reads the file, at most once per reload
// interval and only when its modification time changed, and Used writes last uses at
// most once per last-use interval.
type FileSource struct {
	store          *FileStore
	reloadInterval time.Duration
	lastUsedEvery  time.Duration

	mu        sync.Mutex
	snap      Snapshot
	modTime   time.Time
	checkedAt time.Time
	used      map[string]time.Time // last uses not yet written
	flushedAt time.Time
}

// NewFileSource reads store and returns a source following it.
func NewFileSource(store *FileStore, reloadInterval, lastUsedInterval time.Duration, now time.Time) (*FileSource, error) {
	s := &FileSource{store: store, reloadInterval: reloadInterval, lastUsedEvery: lastUsedInterval,
		used: map[string]time.Time{}, flushedAt: now, checkedAt: now}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileSource) reload() error {
	mod := s.store.ModTime()
	recs, err := s.store.Load()
	if err != nil {
		return err
	}
	if !SameKeys(recs, s.snap.Records) || s.snap.Generation == 0 {
		s.snap = Snapshot{Generation: s.snap.Generation + 1, Records: recs}
	}
	s.modTime = mod
	return nil
}

// Current implements Source.
func (s *FileSource) Current(now time.Time) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.checkedAt) >= s.reloadInterval {
		s.checkedAt = now
		if mod := s.store.ModTime(); !mod.Equal(s.modTime) {
			if err := s.reload(); err != nil {
				return Snapshot{}, err
			}
		}
	}
	return s.snap, nil
}

// Used implements Source: the write happens on the request that finds the interval
// over, one write for every key used in it.
func (s *FileSource) Used(hash string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used[hash] = at
	if at.Sub(s.flushedAt) >= s.lastUsedEvery {
		s.flushedAt = at
		if err := s.store.TouchLastUsed(s.used); err == nil {
			clear(s.used)
		}
	}
}

// ErrStale marks records a Follower cannot vouch for: never read, or not read within
// the staleness bound.
var ErrStale = errors.New("the API keys have not been read recently enough")
