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

// put caches p, prepared (principal.Prepare) for the requests that will share it; a
// principal too large to prepare is cached as it is (its first hop to another process
// refuses it).
func (c *tokenCache) put(digest [sha256.Size]byte, p *principal.Principal, expires, now time.Time) {
	_, _ = principal.Prepare(p)
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

// tokenDigest is the cache key of a token: its SHA-256, computed with a pooled buffer
// (a token is a few hundred bytes; converting it for sha256.Sum256 allocates a copy
// per request).
func tokenDigest(token string) [sha256.Size]byte {
	buf, _ := tokenBufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = append((*buf)[:0], token...)
	digest := sha256.Sum256(*buf)
	clear(*buf) // no copy of a token outlives the call
	if cap(*buf) <= maxPooledTokenBytes {
		tokenBufs.Put(buf)
	}
	return digest
}

var tokenBufs sync.Pool // of *[]byte

// maxPooledTokenBytes keeps an unusually large token's buffer out of the pool.
const maxPooledTokenBytes = 4 << 10
