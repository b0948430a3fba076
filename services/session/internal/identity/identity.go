// Package identity attaches the caller's identity to provider calls: a mesh-signed
// assertion (kit/assertion) in the gRPC metadata, never the client's token. Assertions
// are cached per principal and provider until shortly before they expire, so the hot
// path signs about once a minute per caller and provider rather than once per call.
package identity

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// maxCached bounds the cache; past it, expired entries are dropped, and if none has
// expired the cache starts over (signing again costs tens of microseconds).
const maxCached = 100_000

// Attacher signs and caches assertions.
type Attacher struct {
	signer *assertion.Signer
	// renewBefore is how long before expiry a cached assertion is replaced, so that a
	// provider never receives one about to expire.
	renewBefore time.Duration
	now         func() time.Time

	mu    sync.RWMutex
	cache map[cacheKey]cached
}

type cacheKey struct {
	// who is everything of the principal that the assertion states (principal.Fingerprint).
	who      string
	provider string
}

type cached struct {
	token string
	renew time.Time
}

// New returns an Attacher signing with signer.
func New(signer *assertion.Signer) *Attacher {
	return &Attacher{signer: signer, renewBefore: signer.TTL() / 3, now: time.Now, cache: map[cacheKey]cached{}}
}

// Assertion returns an assertion of the principal ctx carries (anonymous without one)
// for provider.
func (a *Attacher) Assertion(ctx context.Context, provider string) (string, error) {
	key := cacheKey{who: principal.Fingerprint(ctx), provider: provider}
	now := a.now()
	a.mu.RLock()
	c, ok := a.cache[key]
	a.mu.RUnlock()
	if ok && now.Before(c.renew) {
		return c.token, nil
	}
	who, ok := principal.FromContext(ctx)
	if !ok {
		who = principal.Anonymous
	}
	tok, exp, err := a.signer.Sign(who, provider)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	if len(a.cache) >= maxCached {
		a.evict(now)
	}
	a.cache[key] = cached{token: tok, renew: exp.Add(-a.renewBefore)}
	a.mu.Unlock()
	return tok, nil
}

// evict drops expired entries, or all of them when none has expired. Callers hold mu.
func (a *Attacher) evict(now time.Time) {
	for k, c := range a.cache {
		if !now.Before(c.renew) {
			delete(a.cache, k)
		}
	}
	if len(a.cache) >= maxCached {
		clear(a.cache)
	}
}

// Wrap returns conn with every call carrying the assertion for provider. The outgoing
// metadata is replaced, not merged, for the assertion key: whatever ctx carried under
// it (nothing should) cannot reach the provider.
func (a *Attacher) Wrap(provider string, conn grpc.ClientConnInterface) grpc.ClientConnInterface {
	return assertingConn{ClientConnInterface: conn, attacher: a, provider: provider}
}

type assertingConn struct {
	grpc.ClientConnInterface
	attacher *Attacher
	provider string
}

func (c assertingConn) withAssertion(ctx context.Context) (context.Context, error) {
	tok, err := c.attacher.Assertion(ctx, c.provider)
	if err != nil {
		return nil, err
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set(assertion.MetadataKey, tok)
	// The principal travels between mesh services only; providers get the assertion.
	md.Delete(principal.MetadataKey)
	return metadata.NewOutgoingContext(ctx, md), nil
}

func (c assertingConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	ctx, err := c.withAssertion(ctx)
	if err != nil {
		return err
	}
	return c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
}

func (c assertingConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx, err := c.withAssertion(ctx)
	if err != nil {
		return nil, err
	}
	return c.ClientConnInterface.NewStream(ctx, desc, method, opts...)
}
