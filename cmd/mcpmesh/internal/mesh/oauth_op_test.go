package mesh

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/testop"
)

// The official Go SDK client finds the authorization server from the gateway's 401 on
// its own (RFC 9728 metadata, then the OP's discovery), gets a token with client
// credentials from a real OpenID provider and calls a tool, in both protocol
// generations; the provider's signing key rotates during the run and the old one is
// retired, without a restart of the mesh.
func TestOAuthWithOpenIDProvider(t *testing.T) {
	// The resource the tokens are issued for names the gateway's URL before it listens.
	addr := closedAddress(t)
	resource := "http://" + addr + "/mcp"
	idp := testop.Start(t, resource)

	cfg := allInOne(t)
	cfg.Gateway.Listen = addr
	cfg.Auth.Mode = "oauth"
	cfg.Auth.OAuth.Issuer = idp.Issuer
	cfg.Auth.OAuth.Resource = resource
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
			Credentials: &oauthex.ClientCredentials{ClientID: testop.ServiceClientID, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: testop.ServiceClientSecret}},
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
	idp.Rotate(testop.NewKey(t, "key-2"))
	time.Sleep(20 * time.Millisecond) // past jwks_refresh_interval
	t.Run("rotated", func(t *testing.T) { call(t, "2026-07-28") })
	idp.Retire()
	time.Sleep(20 * time.Millisecond)
	t.Run("old key retired", func(t *testing.T) { call(t, "2025-11-25") })
}
