package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// APIKeySettings configures the API key verifier.
type APIKeySettings struct {
	Hasher *apikey.Hasher
	Store  *apikey.FileStore
	// ReloadInterval is how often, at most, the store is checked for changes (a new or
	// revoked key takes effect within it).
	ReloadInterval time.Duration
	// LastUsedInterval is how often, at most, last uses are written to the store.
	LastUsedInterval time.Duration
	Now              func() time.Time
}

// APIKeyVerifier checks API keys against the store, kept in memory by hash: a request
// costs one HMAC and a map lookup.
type APIKeyVerifier struct {
	s APIKeySettings

	mu        sync.Mutex
	byHash    map[string]keyEntry
	modTime   time.Time
	checkedAt time.Time
	used      map[string]time.Time // last uses not yet written
	flushedAt time.Time
}

type keyEntry struct {
	rec apikey.Record
	p   *principal.Principal // built once per load, shared by every request
}

// NewAPIKeyVerifier loads the store and returns a verifier.
func NewAPIKeyVerifier(s APIKeySettings) (*APIKeyVerifier, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	v := &APIKeyVerifier{s: s, used: map[string]time.Time{}, flushedAt: s.Now()}
	if err := v.reload(); err != nil {
		return nil, err
	}
	v.checkedAt = s.Now()
	return v, nil
}

func (v *APIKeyVerifier) reload() error {
	mod := v.s.Store.ModTime()
	recs, err := v.s.Store.Load()
	if err != nil {
		return err
	}
	byHash := make(map[string]keyEntry, len(recs))
	for _, r := range recs {
		scopes := slices.Clone(r.Scopes)
		slices.Sort(scopes)
		byHash[r.Hash] = keyEntry{rec: r, p: &principal.Principal{Subject: r.Name, Issuer: "mcpmesh", Scopes: slices.Compact(scopes), Method: principal.MethodAPIKey}}
	}
	v.byHash, v.modTime = byHash, mod
	return nil
}

// Verify implements Verifier.
func (v *APIKeyVerifier) Verify(_ context.Context, token string) (*principal.Principal, error) {
	hash := v.s.Hasher.Hash(token)
	now := v.s.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if now.Sub(v.checkedAt) >= v.s.ReloadInterval {
		v.checkedAt = now
		if mod := v.s.Store.ModTime(); !mod.Equal(v.modTime) {
			if err := v.reload(); err != nil {
				return nil, fmt.Errorf("%w: API keys: %w", ErrUnavailable, err)
			}
		}
	}
	e, ok := v.byHash[hash]
	if !ok {
		return nil, invalidToken("unknown API key")
	}
	if err := e.rec.Usable(now); err != nil {
		if errors.Is(err, apikey.ErrRevoked) {
			return nil, invalidToken("the API key has been revoked")
		}
		return nil, invalidToken("the API key has expired")
	}
	v.used[hash] = now
	if now.Sub(v.flushedAt) >= v.s.LastUsedInterval {
		// Debounced: one write per interval for every key used in it.
		v.flushedAt = now
		if err := v.s.Store.TouchLastUsed(v.used); err == nil {
			clear(v.used)
		}
	}
	return e.p, nil
}
