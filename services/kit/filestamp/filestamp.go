// Package filestamp tells cheaply whether files changed since they were read: a stat
// per file (size and modification time), no watcher goroutine and no inotify, so it
// works the same on a Kubernetes Secret volume (whose files are replaced through a
// symlink swap) as on a plain file. The caller compares stamps when it is about to use
// what it read, re-reads on a difference and keeps the previous contents when the new
// ones do not load. kit/meshtls re-reads certificates this way and kit/assertion its
// signing keys.
package filestamp

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// Stamp is one file's size and modification time; the zero Stamp stands for a path
// that is not configured.
type Stamp struct {
	size    int64
	modTime time.Time
}

// Stamps are the stamps of several files, in order.
type Stamps []Stamp

// Read stamps paths; an empty path gets the zero Stamp. It fails when a file cannot be
// stat'ed.
func Read(paths ...string) (Stamps, error) {
	out := make(Stamps, len(paths))
	for i, p := range paths {
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", p, err)
		}
		out[i] = Stamp{size: fi.Size(), modTime: fi.ModTime()}
	}
	return out, nil
}

// Equal reports whether s and o stamp the same contents.
func (s Stamps) Equal(o Stamps) bool {
	return slices.EqualFunc(s, o, func(a, b Stamp) bool { return a.size == b.size && a.modTime.Equal(b.modTime) })
}
