package testop

import (
	"context"
	"strings"
	"sync"

	example "github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the example's storage with rotating keys, JWT access tokens for the
// mesh's scopes and RFC 8707 audiences.
type storage struct {
	*example.Storage
	resource string // the audience of client-credentials tokens

	mu        sync.Mutex
	current   *RSAKey
	keys      []*RSAKey           // published
	audiences map[string][]string // auth request id → the resources it asked for
	// Token exchange (exchange.go): the mesh whose assertions are trusted, the
	// subjects refused, and the exchanges granted by subject.
	trust     *meshTrust
	refused   []string
	exchanges map[string]int
}

// mcpClient is a registered client as the mesh's tokens need it: JWT access tokens,
// and the mesh's scopes (mcp:*) allowed beside the OpenID ones.
type mcpClient struct{ op.Client }

func (mcpClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (mcpClient) IsScopeAllowed(scope string) bool    { return strings.HasPrefix(scope, "mcp:") }

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if clientID == FederationClientID {
		return exchangeClient{c}, nil
	}
	return mcpClient{c}, nil
}

func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if clientID == FederationClientID {
		if err := s.AuthorizeClientIDSecret(ctx, clientID, clientSecret); err != nil {
			return nil, err
		}
		return s.GetClientByClientID(ctx, clientID)
	}
	c, err := s.Storage.ClientCredentials(ctx, clientID, clientSecret)
	if err != nil {
		return nil, err
	}
	return mcpClient{c}, nil
}

// ClientCredentialsTokenRequest issues the mesh's resource as the audience, or for the
// federation's client the audience it asked for.
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	if aud := audienceFrom(ctx); clientID == FederationClientID && len(aud) > 0 {
		return &oidc.JWTTokenRequest{Subject: clientID, Audience: aud, Scopes: scopes}, nil
	}
	return &oidc.JWTTokenRequest{Subject: clientID, Audience: []string{s.resource}, Scopes: scopes}, nil
}

// GetPrivateClaimsFromScopes puts the granted scopes in the access token, as
// Keycloak, Auth0 and Okta do (the example adds none).
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, _, _ string, scopes []string) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

// CreateAuthRequest remembers the resources the authorization request named (the OP
// library does not read RFC 8707's parameter; requestedResources put it in ctx).
func (s *storage) CreateAuthRequest(ctx context.Context, authReq *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	req, err := s.Storage.CreateAuthRequest(ctx, authReq, userID)
	if err != nil {
		return nil, err
	}
	if resources := resourcesFrom(ctx); len(resources) > 0 {
		s.mu.Lock()
		s.audiences[req.GetID()] = resources
		s.mu.Unlock()
	}
	return s.withAudience(req), nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	req, err := s.Storage.AuthRequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.withAudience(req), nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	req, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return s.withAudience(req), nil
}

// audienceRequest is an authorization request whose tokens are for the resources it
// named; without any, the example's audience (the client id) stays, which the mesh
// refuses.
type audienceRequest struct {
	op.AuthRequest
	audience []string
}

func (r audienceRequest) GetAudience() []string { return r.audience }

func (s *storage) withAudience(req op.AuthRequest) op.AuthRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if aud, ok := s.audiences[req.GetID()]; ok {
		return audienceRequest{req, aud}
	}
	return req
}
