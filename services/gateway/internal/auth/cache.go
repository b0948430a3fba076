package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// maxCachedTokens bounds the verified-token cache; past it, expired entries are dropped
// and then, if still full, the cache starts over (a flood of distinct valid tokens costs
// signature checks again, not memory).
const maxCachedTokens = 10000

// tokenCache remembers verified tokens by their SHA-256 digest (never the token itself)
// until they expire, so a busy client pays for the signature check once.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	p       *principal.Principal
	expires time.Time
}

func newTokenCache() *tokenCache {
	return &tokenCache{entries: map[[sha256.Size]byte]cachedToken{}}
}

func (c *tokenCache) get(digest [sha256.Size]byte, now time.Time) (*principal.Principal, bool) {
	c.mu.RLock()
	e, ok := c.entries[digest]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.p, true
}

func (c *tokenCache) put(digest [sha256.Size]byte, p *principal.Principal, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTokens {
		for d, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, d)
			}
		}
		if len(c.entries) >= maxCachedTokens {
			clear(c.entries)
		}
	}
	c.entries[digest] = cachedToken{p: p, expires: expires}
}
