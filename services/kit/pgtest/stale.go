package pgtest

import (
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// A cluster dir is locked (flock on its "lock" file) for the life of the test binary
// that made it. A binary killed before Main's cleanup leaves the dir behind (its postgres
// dies with it, see startPostmaster); the next binary removes such unlocked dirs.
const (
	dirPattern = "mcpmesh-pgtest-*"
	lockName   = "lock"
	staleAfter = time.Minute // never touch a dir another binary is still setting up
)

// makeLockedDir creates a cluster dir and takes its lock.
func makeLockedDir() (string, *os.File, error) {
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return "", nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		return "", nil, err
	}
	return dir, lock, nil
}

// removeStaleDirs deletes cluster dirs of test binaries that died, best effort.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern))
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		if err != nil || time.Since(info.ModTime()) < staleAfter {
			continue
		}
		lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
		if err != nil {
			continue // not ours, or not fully created
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(dir)
		}
		_ = lock.Close()
	}
}
