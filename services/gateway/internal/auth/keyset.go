package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxDocumentBytes bounds what is read from the authorization server (discovery
// documents, key sets, introspection answers).
const maxDocumentBytes = 1 << 20

// keySet is the authorization server's signing keys (JWKS). It is fetched on first use,
// so the gateway starts while the authorization server is away, and fetched again when
// a token names a key id it does not hold (key rotation), at most once per interval, so
// tokens with made-up key ids cannot make the gateway hammer the authorization server.
type keySet struct {
	issuer   string // for discovery when jwksURL is empty
	jwksURL  string
	interval time.Duration
	client   *http.Client
	now      func() time.Time

	mu        sync.Mutex // serialises fetches
	keys      map[string]jose.JSONWebKey
	fetched   bool
	lastFetch time.Time
}

// key returns the public key named kid, fetching the set when it is unknown.
func (k *keySet) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.lookup(kid); ok {
		return key, nil
	}
	if k.fetched && k.now().Sub(k.lastFetch) < k.interval {
		return nil, invalidToken("the token is signed with an unknown key")
	}
	if err := k.fetch(ctx); err != nil {
		return nil, err
	}
	if key, ok := k.lookup(kid); ok {
		return key, nil
	}
	return nil, invalidToken("the token is signed with an unknown key")
}

// lookup finds kid; a token without a kid matches a set of exactly one key.
func (k *keySet) lookup(kid string) (*jose.JSONWebKey, bool) {
	if kid == "" && len(k.keys) == 1 {
		for _, key := range k.keys {
			return &key, true
		}
	}
	key, ok := k.keys[kid]
	if !ok || kid == "" {
		return nil, false
	}
	return &key, true
}

func (k *keySet) fetch(ctx context.Context) error {
	k.lastFetch = k.now()
	if k.jwksURL == "" {
		u, err := discoverJWKS(ctx, k.client, k.issuer)
		if err != nil {
			return err
		}
		k.jwksURL = u
	}
	var set jose.JSONWebKeySet
	if err := getJSON(ctx, k.client, k.jwksURL, &set); err != nil {
		return fmt.Errorf("%w: signing keys: %w", ErrUnavailable, err)
	}
	keys := map[string]jose.JSONWebKey{}
	for _, key := range set.Keys {
		// Public signing keys only: a symmetric or private key in the set is ignored,
		// so no token can be checked with an HMAC keyed by published material.
		if !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys[key.KeyID] = key
	}
	k.keys, k.fetched = keys, true
	return nil
}

// discoverJWKS reads jwks_uri from the issuer's OpenID Connect discovery document, else
// from its RFC 8414 authorization-server metadata, and checks the issuer it names.
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	var lastErr error
	for _, u := range discoveryURLs(issuer) {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := getJSON(ctx, client, u, &doc); err != nil {
			lastErr = err
			continue
		}
		if doc.Issuer != issuer {
			return "", fmt.Errorf("%w: discovery document %s names issuer %q, not %q", ErrUnavailable, u, doc.Issuer, issuer)
		}
		if doc.JWKSURI == "" {
			return "", fmt.Errorf("%w: discovery document %s has no jwks_uri", ErrUnavailable, u)
		}
		return doc.JWKSURI, nil
	}
	return "", fmt.Errorf("%w: discovery from %s: %w", ErrUnavailable, issuer, lastErr)
}

// discoveryURLs are where an issuer's metadata may be: OpenID Connect appends the
// well-known path, RFC 8414 inserts it before the issuer's path.
func discoveryURLs(issuer string) []string {
	trimmed := strings.TrimSuffix(issuer, "/")
	urls := []string{trimmed + "/.well-known/openid-configuration"}
	if u, err := url.Parse(trimmed); err == nil {
		path := u.Path
		u.Path = "/.well-known/oauth-authorization-server" + path
		urls = append(urls, u.String())
		if path != "" {
			u.Path = "/.well-known/openid-configuration" + path
			urls = append(urls, u.String())
		}
	}
	return urls
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentBytes)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
