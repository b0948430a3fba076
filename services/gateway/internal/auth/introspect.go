package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// Introspector asks the authorization server about opaque tokens (RFC 7662) and caches
// the answers (active ones until the sooner of CacheTTL and the token's exp).
type Introspector struct {
	URL          string
	ClientID     string
	ClientSecret string
	CacheTTL     time.Duration
}

type introspection struct {
	Active   bool   `json:"active"`
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	Sub      string `json:"sub"`
	Iss      string `json:"iss"`
	Exp      int64  `json:"exp"`
	Aud      any    `json:"aud"`
}

func (in *Introspector) verify(ctx context.Context, token string, digest [sha256.Size]byte, v *OAuthVerifier) (*principal.Principal, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspection request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(in.ClientID), url.QueryEscape(in.ClientSecret))
	resp, err := v.s.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: introspection: HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	var r introspection
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentBytes)).Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: introspection answer: %w", ErrUnavailable, err)
	}
	now := v.s.Now()
	switch {
	case !r.Active:
		return nil, invalidToken("the token is not active")
	case r.Iss != "" && r.Iss != v.s.Issuer:
		return nil, invalidToken("the token was issued by another authorization server")
	case r.Aud != nil && !slices.ContainsFunc(v.audiences, func(a string) bool { return audienceHas(r.Aud, a) }):
		return nil, invalidToken("the token was issued for another resource (audience)")
	case r.Exp != 0 && !now.Before(time.Unix(r.Exp, 0).Add(v.s.ClockSkew)):
		return nil, invalidToken("the token has expired")
	}
	p := &principal.Principal{Subject: firstNonEmpty(r.Sub, r.ClientID), Issuer: firstNonEmpty(r.Iss, v.s.Issuer), ClientID: r.ClientID,
		Scopes: v.expandScopes(strings.Fields(r.Scope)), Method: principal.MethodOAuth}
	if p.Subject == "" {
		return nil, invalidToken("the token names no subject")
	}
	expires := now.Add(in.CacheTTL)
	if r.Exp != 0 && time.Unix(r.Exp, 0).Before(expires) {
		expires = time.Unix(r.Exp, 0)
	}
	v.cache.put(digest, p, expires, now)
	return p, nil
}

func audienceHas(aud any, resource string) bool {
	switch a := aud.(type) {
	case string:
		return a == resource
	case []any:
		return slices.ContainsFunc(a, func(x any) bool { s, ok := x.(string); return ok && s == resource })
	}
	return false
}
