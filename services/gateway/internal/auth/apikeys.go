package auth

import (
	"context"
	"crypto/sha256"
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
	// Keys are the records: a file (apikey.FileSource) or the database's table as
	// this replica last read it (apikey.Follower).
	Keys apikey.Source
	Now  func() time.Time
}

// APIKeyVerifier checks API keys against the source's records, indexed in memory by
// hash: a request costs one HMAC and a map lookup.
type APIKeyVerifier struct {
	s APIKeySettings

	mu     sync.Mutex
	gen    uint64
	byHash map[string]keyEntry
}

type keyEntry struct {
	rec apikey.Record
	p   *principal.Principal // built once per generation, shared by every request
}

// NewAPIKeyVerifier returns a verifier of s.Keys.
func NewAPIKeyVerifier(s APIKeySettings) (*APIKeyVerifier, error) {
	if s.Hasher == nil || s.Keys == nil {
		return nil, errors.New("API key verifier: a hasher and a key source are required")
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return &APIKeyVerifier{s: s}, nil
}

// index returns the entries of snap, rebuilt only when its generation changed.
func (v *APIKeyVerifier) index(snap apikey.Snapshot) map[string]keyEntry {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.byHash != nil && snap.Generation == v.gen {
		return v.byHash
	}
	byHash := make(map[string]keyEntry, len(snap.Records))
	for _, r := range snap.Records {
		scopes := slices.Clone(r.Scopes)
		slices.Sort(scopes)
		p := &principal.Principal{Subject: r.Name, Issuer: "mcpmesh", Scopes: slices.Compact(scopes), Method: principal.MethodAPIKey}
		if _, err := principal.Prepare(p); err != nil {
			continue // cannot happen: a name and scopes encode far below the bound
		}
		byHash[r.Hash] = keyEntry{rec: r, p: p}
	}
	v.byHash, v.gen = byHash, snap.Generation
	return byHash
}

// Verify implements Verifier.
func (v *APIKeyVerifier) Verify(_ context.Context, token string) (*principal.Principal, error) {
	var hexSum [2 * sha256.Size]byte
	hash := v.s.Hasher.AppendHex(hexSum[:0], token)
	now := v.s.Now()
	snap, err := v.s.Keys.Current(now)
	if err != nil {
		return nil, fmt.Errorf("%w: API keys: %w", ErrUnavailable, err)
	}
	e, ok := v.index(snap)[string(hash)]
	if !ok {
		return nil, invalidToken("unknown API key")
	}
	if err := e.rec.Usable(now); err != nil {
		if errors.Is(err, apikey.ErrRevoked) {
			return nil, invalidToken("the API key has been revoked")
		}
		return nil, invalidToken("the API key has expired")
	}
	v.s.Keys.Used(e.rec.Hash, now)
	return e.p, nil
}
