package mesh

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// rotatingStorage is zitadel's example OpenID provider storage with what a real
// deployment has and the example lacks: signing keys that rotate (the previous key
// stays published until retired) and client-credentials tokens issued as JWTs for the
// mesh's resource (the audience the gateway requires).
type rotatingStorage struct {
	*storage.Storage
	resource string

	mu      sync.Mutex
	current *opKey
	keys    []*opKey // published
}

type opKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *opKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *opKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *opKey) ID() string                                  { return k.id }
func (k *opKey) Use() string                                 { return "sig" }

// signing and public are the two views of a key the OP asks for.
type signing struct{ *opKey }

func (s signing) Key() any { return s.key }

type public struct{ *opKey }

func (p public) Key() any { return &p.key.PublicKey }

func newOPKey(t testing.TB, id string) *opKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &opKey{id: id, key: k}
}

// rotate signs with a new key from now on, publishing it beside the old one.
func (s *rotatingStorage) rotate(k *opKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = k
	s.keys = append(s.keys, k)
}

// retire stops publishing every key but the current one.
func (s *rotatingStorage) retire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = []*opKey{s.current}
}

func (s *rotatingStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return signing{s.current}, nil
}

func (s *rotatingStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *rotatingStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []op.Key
	for _, k := range s.keys {
		out = append(out, public{k})
	}
	return out, nil
}

// jwtClient is the example's client-credentials client, issued JWT access tokens.
type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (s *rotatingStorage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	c, err := s.Storage.ClientCredentials(ctx, clientID, clientSecret)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

func (s *rotatingStorage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	return &oidc.JWTTokenRequest{Subject: clientID, Audience: []string{s.resource}, Scopes: scopes}, nil
}

// GetPrivateClaimsFromScopes puts the granted scopes in the access token, as
// Keycloak, Auth0 and Okta do (the example adds none).
func (s *rotatingStorage) GetPrivateClaimsFromScopes(_ context.Context, _, _ string, scopes []string) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

// startOP serves a zitadel OpenID provider on loopback and returns its issuer URL.
func startOP(t *testing.T, st *rotatingStorage) string {
	t.Helper()
	var handler atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	st.Storage = storage.NewStorage(storage.NewUserStore(srv.URL))
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:])
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true}, st,
		op.StaticIssuer(srv.URL), op.WithAllowInsecure(), op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Handler(provider)
	handler.Store(&h)
	return srv.URL
}

// The official Go SDK client finds the authorization server from the gateway's 401 on
// its own (RFC 9728 metadata, then the OP's discovery), gets a token with client
// credentials from a real OpenID provider and calls a tool, in both protocol
// generations; the provider's signing key rotates during the run and the old one is
// retired, without a restart of the mesh.
func TestOAuthWithOpenIDProvider(t *testing.T) {
	st := &rotatingStorage{}
	st.rotate(newOPKey(t, "key-1"))
	// The resource the tokens are issued for names the gateway's URL before it listens.
	addr := closedAddress(t)
	st.resource = "http://" + addr + "/mcp"
	issuer := startOP(t, st)

	cfg := allInOne(t)
	cfg.Gateway.Listen = addr
	cfg.Auth.Mode = "oauth"
	cfg.Auth.OAuth.Issuer = issuer
	cfg.Auth.OAuth.Resource = st.resource
	cfg.Auth.OAuth.Scopes = []string{"mcp:tools"}
	cfg.Auth.OAuth.JWKSRefreshInterval = 10 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base := startWith(t, cfg)

	// Without a token: the challenge that starts the discovery.
	resp, err := http.Post(base+"/mcp", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	want := `Bearer resource_metadata="http://` + addr + `/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("no token: %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}

	call := func(t *testing.T, version string) {
		t.Helper()
		handler, err := extauth.NewClientCredentialsHandler(&extauth.ClientCredentialsHandlerConfig{
			Credentials: &oauthex.ClientCredentials{ClientID: "sid1", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "verysecret"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		client := mcp.NewClient(&mcp.Implementation{Name: "oauth-test", Version: "1"}, nil)
		session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", OAuthHandler: handler, MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatalf("%s: connect: %v", version, err)
		}
		defer func() { _ = session.Close() }()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 2, "b": 3}})
		if err != nil || res.IsError {
			t.Fatalf("%s: tools/call add: %v %+v", version, err, res)
		}
		if got := fmt.Sprint(res.Content[0].(*mcp.TextContent).Text); got != `{"sum":5}` {
			t.Fatalf("%s: add answered %q", version, got)
		}
	}
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) { call(t, version) })
	}

	// Key rotation: tokens signed with the new key are accepted once the OP publishes
	// it, and still after the old key is retired.
	st.rotate(newOPKey(t, "key-2"))
	time.Sleep(20 * time.Millisecond) // past jwks_refresh_interval
	t.Run("rotated", func(t *testing.T) { call(t, "2026-07-28") })
	st.retire()
	time.Sleep(20 * time.Millisecond)
	t.Run("old key retired", func(t *testing.T) { call(t, "2025-11-25") })
}
