package testop

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	example "github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Clients and the user the provider knows.
const (
	// ServiceClientID and ServiceClientSecret are a confidential client allowed the
	// client-credentials grant (the example storage's service user).
	ServiceClientID     = "sid1"
	ServiceClientSecret = "verysecret"
	// PublicClientID is a pre-registered public (native) client: authorization code
	// with PKCE, no secret, redirected to PublicRedirectURI. The OP has no dynamic
	// client registration.
	PublicClientID    = "mcp-public"
	PublicRedirectURI = "http://127.0.0.1/callback"
	// Password is the password of the example's user; Username returns its name.
	Password = "verysecure"
	// UserSubject is the subject of that user's tokens.
	UserSubject = "id1"
)

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is its issuer URL (discovery at Issuer/.well-known/openid-configuration).
	Issuer string
	st     *storage

	mu                 sync.Mutex
	authorizeResources []string
	tokenResources     []string
}

// Start serves a provider on loopback until the test ends. resource is the audience
// of client-credentials tokens; the provider signs with a key named "key-1" until
// Rotate.
func Start(t testing.TB, resource string) *Provider {
	t.Helper()
	p := &Provider{st: &storage{resource: resource, audiences: map[string][]string{}, exchanges: map[string]int{}}}
	first := NewKey(t, "key-1")
	p.st.current, p.st.keys = first, []*RSAKey{first}

	// The issuer names the listener's address, which the provider needs before it serves.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	p.Issuer = "http://" + srv.Listener.Addr().String()

	p.st.Storage = example.NewStorageWithClients(example.NewUserStore(p.Issuer), map[string]*example.Client{
		PublicClientID:     example.NativeClient(PublicClientID, PublicRedirectURI),
		FederationClientID: example.WebClient(FederationClientID, FederationClientSecret),
	})
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		t.Fatal(err)
	}
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true}, p.st,
		op.StaticIssuer(p.Issuer), op.WithAllowInsecure(), op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/username", newLogin(p.st, provider))
	mux.Handle("/", p.recordResources(provider))
	srv.Config.Handler = mux
	srv.Start()
	return p
}

// Username is the example user's login name (it names the provider's host).
func (p *Provider) Username() string {
	u, _ := url.Parse(p.Issuer)
	return "test-user@" + u.Hostname()
}

// RequestedResources returns the RFC 8707 resource parameters the provider received on
// its authorization and token endpoints, in order.
func (p *Provider) RequestedResources() (authorize, token []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.authorizeResources...), append([]string(nil), p.tokenResources...)
}

type resourcesKey struct{}

func resourcesFrom(ctx context.Context) []string {
	r, _ := ctx.Value(resourcesKey{}).([]string)
	return r
}

type audienceKey struct{}

// audienceFrom is the audience parameters of the token request (the OP library does
// not hand them to the storage for client credentials and subject token checks).
func audienceFrom(ctx context.Context) []string {
	a, _ := ctx.Value(audienceKey{}).([]string)
	return a
}

// recordResources notes the resource parameters of authorization and token requests
// and hands the authorization request's to the storage through the context.
func (p *Provider) recordResources(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/authorize", "/oauth/token":
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			resources := r.Form["resource"]
			p.mu.Lock()
			if r.URL.Path == "/authorize" {
				p.authorizeResources = append(p.authorizeResources, resources...)
				r = r.WithContext(context.WithValue(r.Context(), resourcesKey{}, resources))
			} else {
				p.tokenResources = append(p.tokenResources, resources...)
				r = r.WithContext(context.WithValue(r.Context(), audienceKey{}, r.Form["audience"]))
			}
			p.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// ClientCredentialsToken gets an access token for the service client with scopes.
func (p *Provider) ClientCredentialsToken(ctx context.Context, scopes ...string) (string, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {ServiceClientID},
		"client_secret": {ServiceClientSecret},
		"scope":         {strings.Join(scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("token response (%d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", fmt.Errorf("token endpoint answered %d %q", resp.StatusCode, out.Error)
	}
	return out.AccessToken, nil
}
