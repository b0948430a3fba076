package assertion

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// MetadataKey is the gRPC metadata entry that carries the assertion to a provider.
const MetadataKey = "mcpmesh-assertion"

// DefaultIssuer is the iss of assertions when none is configured.
const DefaultIssuer = "mcpmesh"

// DefaultTTL is the lifetime of an assertion.
const DefaultTTL = 60 * time.Second

// Claims are an assertion's claims.
type Claims struct {
	jwt.Claims
	// PrincipalIssuer is the issuer that authenticated the principal (the token's iss,
	// or "mcpmesh" for API keys and the anonymous principal).
	PrincipalIssuer string `json:"principal_iss"`
	ClientID        string `json:"client_id,omitempty"`
	// Scope is the principal's scopes, space-separated (RFC 8693's scope claim).
	Scope      string `json:"scope,omitempty"`
	AuthMethod string `json:"auth_method,omitempty"`
}

// Scopes returns Scope as a list.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// Signer signs assertions with the first key of its Keys' current KeySet.
type Signer struct {
	keys   Keys
	issuer string
	ttl    time.Duration
	now    func() time.Time

	// signing is the jose signer of the KeySet last used, rebuilt when Keys gives
	// another (the files were re-read). A pointer, so a copy of the Signer shares it.
	signing *atomic.Pointer[keySigner]
}

type keySigner struct {
	keys   *KeySet
	signer jose.Signer
}

// NewSigner returns a signer; an empty issuer or a zero ttl take the defaults.
func NewSigner(keys Keys, issuer string, ttl time.Duration) (*Signer, error) {
	if issuer == "" {
		issuer = DefaultIssuer
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	s := &Signer{keys: keys, issuer: issuer, ttl: ttl, now: time.Now, signing: new(atomic.Pointer[keySigner])}
	if _, err := s.signerFor(keys.Current()); err != nil {
		return nil, err
	}
	return s, nil
}

// signerFor returns the jose signer of ks, made once per KeySet.
func (s *Signer) signerFor(ks *KeySet) (jose.Signer, error) {
	if cur := s.signing.Load(); cur != nil && cur.keys == ks {
		return cur.signer, nil
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(ks.signing.Algorithm), Key: ks.signing},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("assertion signer: %w", err)
	}
	s.signing.Store(&keySigner{keys: ks, signer: sig})
	return sig, nil
}

// Keys returns the key set the signer uses now.
func (s *Signer) Keys() *KeySet { return s.keys.Current() }

// TTL is the lifetime of the assertions the signer makes.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Sign returns an assertion of p for audience (a provider's name) and its expiry.
func (s *Signer) Sign(p *principal.Principal, audience string) (string, time.Time, error) {
	if p == nil {
		p = principal.Anonymous
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:]) // crypto/rand.Read never fails
	now := s.now()
	exp := now.Add(s.ttl)
	c := Claims{
		Claims: jwt.Claims{
			Issuer:    s.issuer,
			Subject:   p.Subject,
			Audience:  jwt.Audience{audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(exp),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		PrincipalIssuer: p.Issuer,
		ClientID:        p.ClientID,
		Scope:           strings.Join(p.Scopes, " "),
		AuthMethod:      string(p.Method),
	}
	signer, err := s.signerFor(s.keys.Current())
	if err != nil {
		return "", time.Time{}, err
	}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign assertion: %w", err)
	}
	return tok, exp, nil
}
