package assertion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/grpc/metadata"
)

// ErrInvalid is returned for an assertion that does not verify: malformed, signed by an
// unknown key, for another audience or issuer, expired or not yet valid.
var ErrInvalid = errors.New("invalid assertion")

// ErrMissing is returned by FromIncoming when the call carries no assertion.
var ErrMissing = errors.New("no assertion")

// signatureAlgorithms are the only ones accepted: those the mesh signs with. Never
// "none", never HMAC.
var signatureAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// maxTokenSize bounds what is parsed; a mesh assertion is well under 1 KiB.
const maxTokenSize = 8 << 10

// KeySource gives the public keys assertions are verified with. refresh asks for a
// fresh copy (a kid was not found), which a source may refuse to do too often.
type KeySource interface {
	Keys(ctx context.Context, refresh bool) (*jose.JSONWebKeySet, error)
}

// StaticKeys is a fixed key set, for example a KeySet in the same process.
type StaticKeys struct{ Set jose.JSONWebKeySet }

// Keys returns the set.
func (s StaticKeys) Keys(context.Context, bool) (*jose.JSONWebKeySet, error) { return &s.Set, nil }

// ParseJWKS returns the key set of a JWKS document.
func ParseJWKS(b []byte) (StaticKeys, error) {
	var s jose.JSONWebKeySet
	if err := json.Unmarshal(b, &s); err != nil {
		return StaticKeys{}, fmt.Errorf("parse JWKS: %w", err)
	}
	return StaticKeys{Set: s}, nil
}

// RemoteKeys fetches the JWKS from a URL (the gateway serves it at JWKSPath)
// and keeps it; an unknown kid refetches it at most once per MinRefresh, so rotation
// needs no restart and a flood of bad kids cannot turn into a flood of fetches.
type RemoteKeys struct {
	URL        string
	Client     *http.Client  // nil: http.DefaultClient
	MinRefresh time.Duration // zero: 30 s

	mu      sync.Mutex
	set     *jose.JSONWebKeySet
	fetched time.Time
}

// Keys returns the cached set, fetching it first when there is none or when refresh is
// asked and the last fetch is older than MinRefresh.
func (r *RemoteKeys) Keys(ctx context.Context, refresh bool) (*jose.JSONWebKeySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	minRefresh := r.MinRefresh
	if minRefresh <= 0 {
		minRefresh = 30 * time.Second
	}
	if r.set != nil && (!refresh || time.Since(r.fetched) < minRefresh) {
		return r.set, nil
	}
	set, err := r.fetch(ctx)
	if err != nil {
		if r.set != nil {
			return r.set, nil // keep verifying with what we have
		}
		return nil, err
	}
	r.set, r.fetched = set, time.Now()
	return set, nil
}

func (r *RemoteKeys) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: status %d", r.URL, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	keys, err := ParseJWKS(b)
	if err != nil {
		return nil, err
	}
	return &keys.Set, nil
}

// Verifier checks assertions meant for one provider.
type Verifier struct {
	Keys KeySource
	// Audience is the provider's name in the mesh; assertions for others are refused.
	Audience string
	// Issuer is the mesh's (empty: DefaultIssuer).
	Issuer string
	// Leeway tolerates clock skew on exp, nbf and iat (zero: 5 s).
	Leeway time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Verify checks token and returns its claims.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > maxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalid, len(token))
	}
	tok, err := jwt.ParseSigned(token, signatureAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return nil, fmt.Errorf("%w: no key id", ErrInvalid)
	}
	kid := tok.Headers[0].KeyID
	key, err := v.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != "" && key.Algorithm != tok.Headers[0].Algorithm {
		return nil, fmt.Errorf("%w: key %s is for %s, not %s", ErrInvalid, kid, key.Algorithm, tok.Headers[0].Algorithm)
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Expiry == nil || c.Subject == "" {
		return nil, fmt.Errorf("%w: exp and sub are required", ErrInvalid)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	issuer := v.Issuer
	if issuer == "" {
		issuer = DefaultIssuer
	}
	leeway := v.Leeway
	if leeway == 0 {
		leeway = 5 * time.Second
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{v.Audience}, Time: now()}, leeway); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &c, nil
}

func (v *Verifier) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	for _, refresh := range []bool{false, true} {
		set, err := v.Keys.Keys(ctx, refresh)
		if err != nil {
			return nil, fmt.Errorf("assertion keys: %w", err)
		}
		for i := range set.Keys {
			if set.Keys[i].KeyID == kid && set.Keys[i].Valid() {
				pub := set.Keys[i].Public()
				return &pub, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: unknown key %s", ErrInvalid, kid)
}

// FromIncoming returns the assertion a provider's incoming gRPC call carries.
func FromIncoming(ctx context.Context) (string, error) {
	vals := metadata.ValueFromIncomingContext(ctx, MetadataKey)
	switch len(vals) {
	case 0:
		return "", ErrMissing
	case 1:
		return vals[0], nil
	default:
		return "", fmt.Errorf("%w: %d entries", ErrInvalid, len(vals))
	}
}

// VerifyIncoming verifies the assertion of an incoming gRPC call.
func (v *Verifier) VerifyIncoming(ctx context.Context) (*Claims, error) {
	tok, err := FromIncoming(ctx)
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, tok)
}
