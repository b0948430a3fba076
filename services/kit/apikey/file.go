package apikey

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// FileStore keeps records in one JSON file, for the in-memory mode. Every change is a
// read-modify-write under an exclusive lock on a side file (flock), written to a
// temporary file and renamed, so `mcpmesh apikey` and a running gateway never lose each
// other's updates and a reader never sees half a file.
type FileStore struct {
	path string
}

// NewFileStore returns the store at path (created on first write, mode 0600).
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// Load returns every record.
func (s *FileStore) Load() ([]Record, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", err)
	}
	var recs []Record
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("read API keys %s: %w", s.path, err)
	}
	return recs, nil
}

// ModTime is the file's modification time (zero when it does not exist), so a reader
// reloads only after a change.
func (s *FileStore) ModTime() time.Time {
	fi, err := os.Stat(s.path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// Create adds r; ErrExists when its name is taken.
func (s *FileStore) Create(r Record) error {
	return s.update(func(recs []Record) ([]Record, error) {
		if slices.ContainsFunc(recs, func(x Record) bool { return x.Name == r.Name }) {
			return nil, fmt.Errorf("%w: %s", ErrExists, r.Name)
		}
		return append(recs, r), nil
	})
}

// Revoke marks the key called name revoked at now.
func (s *FileStore) Revoke(name string, now time.Time) error {
	return s.update(func(recs []Record) ([]Record, error) {
		i := slices.IndexFunc(recs, func(x Record) bool { return x.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknown, name)
		}
		if recs[i].RevokedAt.IsZero() {
			recs[i].RevokedAt = now
		}
		return recs, nil
	})
}

// TouchLastUsed records the last use of the keys with these hashes.
func (s *FileStore) TouchLastUsed(used map[string]time.Time) error {
	return s.update(func(recs []Record) ([]Record, error) {
		for i := range recs {
			if t, ok := used[recs[i].Hash]; ok && t.After(recs[i].LastUsedAt) {
				recs[i].LastUsedAt = t
			}
		}
		return recs, nil
	})
}

func (s *FileStore) update(change func([]Record) ([]Record, error)) error {
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock API keys: %w", err)
	}
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock API keys: %w", err)
	}
	recs, err := s.Load()
	if err != nil {
		return err
	}
	if recs, err = change(recs); err != nil {
		return err
	}
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".apikeys-*")
	if err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write API keys: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write API keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	return nil
}
