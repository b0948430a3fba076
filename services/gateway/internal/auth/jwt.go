package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// OAuthSettings configures the OAuth 2.1 resource server's token checks.
type OAuthSettings struct {
	Issuer   string
	JWKSURL  string // empty: discovered from Issuer
	Resource string // the audience tokens must carry
	// ScopeImplies maps a broader scope to the narrower ones it implies.
	ScopeImplies map[string][]string
	Algorithms   []string
	ClockSkew    time.Duration
	// JWKSRefreshInterval is the least time between two key-set fetches.
	JWKSRefreshInterval time.Duration
	// Introspection checks opaque tokens; nil refuses them.
	Introspection *Introspector
	// HTTPClient reaches the authorization server; nil uses a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock (tests); nil uses time.Now.
	Now func() time.Time
}

// OAuthVerifier checks bearer tokens: JWTs signed by the authorization server for this
// resource, or opaque tokens by introspection.
type OAuthVerifier struct {
	s     OAuthSettings
	algs  []jose.SignatureAlgorithm
	keys  *keySet
	cache *tokenCache
	// audiences are the audiences a token may carry, any one of them: the resource,
	// and for a virtual server's verifier its own URI too (AlsoFor).
	audiences jwt.Audience
}

// NewOAuthVerifier returns a verifier for s.
func NewOAuthVerifier(s OAuthSettings) (*OAuthVerifier, error) {
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	var algs []jose.SignatureAlgorithm
	for _, a := range s.Algorithms {
		if !slices.Contains(AsymmetricAlgorithms, a) {
			return nil, errors.New("auth: algorithm " + a + " is not allowed")
		}
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	if len(algs) == 0 {
		return nil, errors.New("auth: no algorithm allowed")
	}
	return &OAuthVerifier{
		s:         s,
		algs:      algs,
		keys:      &keySet{issuer: s.Issuer, jwksURL: s.JWKSURL, interval: s.JWKSRefreshInterval, client: s.HTTPClient, now: s.Now},
		cache:     newTokenCache(),
		audiences: jwt.Audience{s.Resource},
	}, nil
}

// AlsoFor returns a verifier that also accepts tokens issued for resource (a virtual
// server's URI, which RFC 8707 clients ask tokens for), besides every audience v
// accepts. It shares v's keys (one JWKS fetch schedule) but not its cache of verified
// tokens, so a token for resource is never accepted by v.
func (v *OAuthVerifier) AlsoFor(resource string) *OAuthVerifier {
	return &OAuthVerifier{s: v.s, algs: v.algs, keys: v.keys, cache: newTokenCache(),
		audiences: append(slices.Clone(v.audiences), resource)}
}

// Verify implements Verifier.
func (v *OAuthVerifier) Verify(ctx context.Context, token string) (*principal.Principal, error) {
	digest := tokenDigest(token)
	now := v.s.Now()
	if p, ok := v.cache.get(digest, now); ok {
		return p, nil
	}
	if strings.Count(token, ".") != 2 {
		if v.s.Introspection != nil {
			return v.s.Introspection.verify(ctx, token, digest, v)
		}
		return nil, invalidToken("the token is not a JWT (three dot-separated parts)")
	}
	p, expires, err := v.verifyJWT(ctx, token, now)
	if err != nil {
		return nil, err
	}
	v.cache.put(digest, p, expires, now)
	return p, nil
}

// tokenClaims are the claims read besides the registered ones.
type tokenClaims struct {
	Scope    string `json:"scope"`
	SCP      any    `json:"scp"` // Entra ID and Okta: a list or a space-separated string
	AZP      string `json:"azp"`
	ClientID string `json:"client_id"`
}

func (v *OAuthVerifier) verifyJWT(ctx context.Context, token string, now time.Time) (*principal.Principal, time.Time, error) {
	tok, err := jwt.ParseSigned(token, v.algs)
	if err != nil {
		// Bad base64 or JSON, "none", HMAC or another algorithm off the allow-list.
		return nil, time.Time{}, invalidToken("the token is malformed or signed with an algorithm this server does not accept")
	}
	if len(tok.Headers) != 1 {
		return nil, time.Time{}, invalidToken("the token must have exactly one signature")
	}
	hdr := tok.Headers[0]
	key, err := v.keys.key(ctx, hdr.KeyID)
	if err != nil {
		return nil, time.Time{}, err
	}
	if key.Algorithm != "" && key.Algorithm != hdr.Algorithm {
		return nil, time.Time{}, invalidToken("the token's algorithm does not match its key")
	}
	var std jwt.Claims
	var extra tokenClaims
	var all map[string]any
	if err := tok.Claims(key.Key, &std, &extra, &all); err != nil {
		return nil, time.Time{}, invalidToken("the token's signature does not verify")
	}
	if std.Expiry == nil {
		return nil, time.Time{}, invalidToken("the token has no expiry (exp)")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: v.s.Issuer, AnyAudience: v.audiences, Time: now}, v.s.ClockSkew)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, time.Time{}, invalidToken("the token has expired")
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, time.Time{}, invalidToken("the token is not valid yet")
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, time.Time{}, invalidToken("the token was issued by another authorization server")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, time.Time{}, invalidToken("the token was issued for another resource (audience)")
	case err != nil:
		return nil, time.Time{}, invalidToken("the token's claims are not valid")
	}
	p := &principal.Principal{
		Subject:  std.Subject,
		Issuer:   std.Issuer,
		ClientID: firstNonEmpty(extra.AZP, extra.ClientID),
		Scopes:   v.expandScopes(scopesOf(extra)),
		Claims:   all,
		Method:   principal.MethodOAuth,
	}
	if p.Subject == "" {
		p.Subject = p.ClientID
	}
	if p.Subject == "" {
		return nil, time.Time{}, invalidToken("the token names no subject (sub)")
	}
	// Cached no longer than the token lives (with the skew it was accepted under).
	return p, std.Expiry.Time().Add(v.s.ClockSkew), nil
}

func scopesOf(c tokenClaims) []string {
	out := strings.Fields(c.Scope)
	switch scp := c.SCP.(type) {
	case string:
		out = append(out, strings.Fields(scp)...)
	case []any:
		for _, s := range scp {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
	}
	return out
}

// expandScopes adds the scopes that broader ones imply (auth.oauth.scope_implies, the
// scope hierarchy the MCP authorization specification asks servers to honour), sorted
// and without duplicates.
func (v *OAuthVerifier) expandScopes(scopes []string) []string {
	seen := map[string]bool{}
	var out []string
	var add func(s string)
	add = func(s string) {
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		for _, n := range v.s.ScopeImplies[s] {
			add(n)
		}
	}
	for _, s := range scopes {
		add(s)
	}
	slices.Sort(out)
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
