package testop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
)

// FederationClientID and FederationClientSecret are a confidential client (client
// secret basic or post) allowed the client credentials grant, whose tokens are for the
// audience it asks for, and the token exchange grant (RFC 8693), whose subject token
// is a mesh identity assertion once TrustMeshAssertions is called.
const (
	FederationClientID     = "mcpmesh-federation"
	FederationClientSecret = "federation-secret"
)

// exchangeClient is the federation's client: JWT access tokens, any scope, and the
// grants it needs.
type exchangeClient struct{ op.Client }

func (exchangeClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (exchangeClient) IsScopeAllowed(string) bool          { return true }
func (exchangeClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange}
}

// meshTrust is how the provider verifies the mesh's assertions.
type meshTrust struct {
	issuer string
	keys   assertion.KeySource
}

// TrustMeshAssertions makes the provider accept, as the subject token of a token
// exchange, an identity assertion of the mesh: iss issuer, signed by a key of the JWKS
// at jwksURL, and made for the provider named by the exchange's audience parameter.
func (p *Provider) TrustMeshAssertions(issuer, jwksURL string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.trust = &meshTrust{issuer: issuer, keys: &assertion.RemoteKeys{URL: jwksURL, MinRefresh: time.Millisecond}}
}

// RefuseExchangesFor makes token exchanges for subject fail with invalid_grant.
func (p *Provider) RefuseExchangesFor(subject string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.refused = append(p.st.refused, subject)
}

// Exchanges returns how many token exchanges the provider granted, by subject.
func (p *Provider) Exchanges() map[string]int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	out := make(map[string]int, len(p.st.exchanges))
	for k, v := range p.st.exchanges {
		out[k] = v
	}
	return out
}

// ExchangedClaims are the claims of an access token the provider issued.
type ExchangedClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Actor    *struct {
		Subject string `json:"sub"`
	} `json:"act"`
}

// VerifyAccessToken checks an access token the provider issued, as a resource server
// would: signed by a published key, not expired, for audience.
func (p *Provider) VerifyAccessToken(token, audience string) (*ExchangedClaims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("one signature expected")
	}
	p.st.mu.Lock()
	var key *RSAKey
	for _, k := range p.st.keys {
		if k.id == tok.Headers[0].KeyID {
			key = k
		}
	}
	p.st.mu.Unlock()
	if key == nil {
		return nil, fmt.Errorf("unknown key %q", tok.Headers[0].KeyID)
	}
	var c ExchangedClaims
	if err := tok.Claims(&key.key.PublicKey, &c); err != nil {
		return nil, err
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: p.Issuer, AnyAudience: jwt.Audience{audience}, Time: time.Now()}, time.Second); err != nil {
		return nil, err
	}
	return &c, nil
}

// VerifyExchangeSubjectToken accepts a mesh assertion (token type jwt) for the
// audience the exchange asks for.
func (s *storage) VerifyExchangeSubjectToken(ctx context.Context, token string, tokenType oidc.TokenType) (string, string, map[string]any, error) {
	s.mu.Lock()
	trust := s.trust
	s.mu.Unlock()
	audience := audienceFrom(ctx)
	if trust == nil || tokenType != oidc.JWTTokenType || len(audience) != 1 {
		return "", "", nil, errors.New("not a mesh assertion for one audience")
	}
	v := assertion.Verifier{Keys: trust.keys, Issuer: trust.issuer, Audience: audience[0]}
	c, err := v.Verify(ctx, token)
	if err != nil {
		return "", "", nil, err
	}
	return c.ID, c.Subject, map[string]any{"principal_iss": c.PrincipalIssuer}, nil
}

// VerifyExchangeActorToken accepts no actor token: the actor is the authenticated client.
func (s *storage) VerifyExchangeActorToken(context.Context, string, oidc.TokenType) (string, string, map[string]any, error) {
	return "", "", nil, errors.New("actor tokens are not accepted")
}

// ValidateTokenExchangeRequest grants the federation's client an access token of the
// assertion's subject, unless that subject is refused.
func (s *storage) ValidateTokenExchangeRequest(_ context.Context, req op.TokenExchangeRequest) error {
	if req.GetClientID() != FederationClientID || req.GetExchangeSubjectTokenType() != oidc.JWTTokenType {
		return oidc.ErrUnauthorizedClient().WithDescription("only the federation exchanges mesh assertions")
	}
	if req.GetRequestedTokenType() == "" {
		req.SetRequestedTokenType(oidc.AccessTokenType)
	}
	if req.GetRequestedTokenType() != oidc.AccessTokenType {
		return oidc.ErrInvalidRequest().WithDescription("only access tokens are issued")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.refused, req.GetExchangeSubject()) {
		return oidc.ErrInvalidGrant().WithDescription("the subject may not use this audience")
	}
	req.SetCurrentScopes(req.GetScopes())
	return nil
}

// CreateTokenExchangeRequest counts the granted exchanges.
func (s *storage) CreateTokenExchangeRequest(_ context.Context, req op.TokenExchangeRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges[req.GetExchangeSubject()]++
	return nil
}

// GetPrivateClaimsFromTokenExchangeRequest adds the scopes, and the client acting
// for the subject as RFC 8693's act claim.
func (s *storage) GetPrivateClaimsFromTokenExchangeRequest(_ context.Context, req op.TokenExchangeRequest) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(req.GetScopes(), " "), "act": map[string]any{"sub": req.GetClientID()}}, nil
}
