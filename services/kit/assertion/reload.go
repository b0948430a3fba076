package assertion

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mcpmesh/mcpmesh/services/kit/filestamp"
)

// Keys is where a Signer gets its keys: a *KeySet (fixed) or *FileKeys (re-read when
// the files change).
type Keys interface {
	Current() *KeySet
}

// Current returns k itself: a KeySet does not change.
func (k *KeySet) Current() *KeySet { return k }

// DefaultRetiredKeyGrace is how long a key taken out of the files stays published.
const DefaultRetiredKeyGrace = 15 * time.Minute

// recheckInterval bounds how often FileKeys stats its files: a signature per call must
// not cost a stat per key file.
const recheckInterval = time.Second

// FileKeys is a KeySet read from auth.assertion.signing_key_files and read again when
// one of them changes (kit/filestamp, as kit/meshtls re-reads certificates; checked
// when keys are used, at most once a second). Files that change but do not load keep
// the previous keys, and the failure is logged. A key that leaves the files stays in
// the published JWKS for the grace period after the change was seen, so that
// assertions it signed (still valid, or made by a replica that has not re-read its
// files yet) verify at providers that refetch the JWKS meanwhile.
type FileKeys struct {
	files []string
	grace time.Duration
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	stamps  filestamp.Stamps
	checked time.Time
	current *KeySet
	retired []retiredKey
}

type retiredKey struct {
	jwk   jose.JSONWebKey
	until time.Time
}

// LoadFileKeys reads files (the first key signs, all are published); it fails when one
// is missing or invalid, so a process does not start without its keys. A grace of 0
// means DefaultRetiredKeyGrace.
func LoadFileKeys(files []string, grace time.Duration, log *slog.Logger) (*FileKeys, error) {
	if grace <= 0 {
		grace = DefaultRetiredKeyGrace
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stamps, err := filestamp.Read(files...)
	if err != nil {
		return nil, fmt.Errorf("auth.assertion.signing_key_files: %w", err)
	}
	keys, err := LoadKeys(files)
	if err != nil {
		return nil, err
	}
	f := &FileKeys{files: files, grace: grace, log: log, now: time.Now, stamps: stamps, current: keys}
	f.checked = f.now()
	return f, nil
}

// Current returns the keys in the files, re-reading them first when one changed.
func (f *FileKeys) Current() *KeySet {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshLocked()
	return f.current
}

// JWKS is the public keys of the files and the keys retired less than the grace period
// ago, as the gateway serves them.
func (f *FileKeys) JWKS() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshLocked()
	set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), f.current.public.Keys...)}
	now := f.now()
	kept := f.retired[:0]
	for _, r := range f.retired {
		if now.Before(r.until) {
			kept = append(kept, r)
			set.Keys = append(set.Keys, r.jwk)
		}
	}
	f.retired = kept
	b, err := json.Marshal(set)
	if err != nil {
		panic(fmt.Sprintf("marshal JWKS: %v", err)) // loaded keys always marshal
	}
	return b
}

// refreshLocked re-reads the files when their stamps changed (checked at most once per
// recheckInterval). f.mu is held.
func (f *FileKeys) refreshLocked() {
	now := f.now()
	if now.Sub(f.checked) < recheckInterval {
		return
	}
	f.checked = now
	stamps, err := filestamp.Read(f.files...)
	if err == nil && stamps.Equal(f.stamps) {
		return
	}
	var keys *KeySet
	if err == nil {
		keys, err = LoadKeys(f.files)
	}
	if err != nil {
		f.log.Warn("assertion signing key files changed but do not load; keeping the previous keys", "error", err)
		return
	}
	for _, old := range f.current.public.Keys {
		if !slicesContainsKID(keys.public.Keys, old.KeyID) {
			f.retired = append(f.retired, retiredKey{jwk: old, until: now.Add(f.grace)})
		}
	}
	// A key back in the files is no longer retired.
	kept := f.retired[:0]
	for _, r := range f.retired {
		if !slicesContainsKID(keys.public.Keys, r.jwk.KeyID) {
			kept = append(kept, r)
		}
	}
	f.retired = kept
	f.log.Info("assertion signing keys reloaded", "signing_kid", keys.SigningKeyID(), "published", len(keys.public.Keys), "retired", len(f.retired))
	f.current, f.stamps = keys, stamps
}
