package mesh

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/testop"
	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
)

// exchangeUpstream is an MCP server that, like a resource server of the identity
// provider, takes only the provider's access tokens for its own audience, and
// records the token and subject of each tool call and the subjects of every request.
type exchangeUpstream struct {
	idp      *testop.Provider
	audience string // and its name
	// stateless serves the 2026-07-28 generation (no session); otherwise the
	// federation's one 2025-11-25 session carries every caller's calls.
	stateless bool

	mu       sync.Mutex
	calls    []seenToken // tools/call, in order
	subjects []string    // every HTTP request's
	refused  int         // requests without a valid token
}

type seenToken struct{ token, subject, actor string }

func (u *exchangeUpstream) serve(t *testing.T) string {
	s := mcp.NewServer(&mcp.Implementation{Name: u.audience, Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Names the subject of the call's token."},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			token := strings.TrimPrefix(req.Extra.Header.Get("Authorization"), "Bearer ")
			c, err := u.idp.VerifyAccessToken(token, u.audience)
			if err != nil {
				return nil, nil, err
			}
			seen := seenToken{token: token, subject: c.Subject}
			if c.Actor != nil {
				seen.actor = c.Actor.Subject
			}
			u.mu.Lock()
			u.calls = append(u.calls, seen)
			u.mu.Unlock()
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "sub=" + c.Subject}}}, nil, nil
		})
	closeSessionsAtEnd(t, s)
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: u.stateless})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		c, err := u.idp.VerifyAccessToken(token, u.audience)
		u.mu.Lock()
		if !ok || err != nil {
			u.refused++
		} else {
			u.subjects = append(u.subjects, c.Subject)
		}
		u.mu.Unlock()
		if !ok || err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (u *exchangeUpstream) seen() ([]seenToken, []string, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.calls), slices.Clone(u.subjects), u.refused
}

// syncBuffer is a log destination written by many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bearerSession connects the official Go SDK client to the mesh with token.
func bearerSession(t *testing.T, base, token string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "exchange-test", Version: "1"}, nil)
	httpClient := &http.Client{Transport: bearerTransport{token: token}}
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: httpClient, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect to the mesh: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(req)
}

// Users of the mesh call federated upstreams that take only tokens for themselves, one
// stateful (the federation's one 2025-11-25 session carries every user's calls) and
// one stateless (2026-07-28): each call carries a token of the calling user for that
// upstream, got by token exchange of the mesh's assertion at the identity provider
// (never the user's own token), and kept for the user's next calls; the federation's
// own requests carry its own token; a refused exchange is a clear tool error; no
// token reaches the log.
func TestFederationTokenExchangeOnBehalfOfTheCaller(t *testing.T) {
	var upstreams []*exchangeUpstream
	tx := startTokenExchangeMesh(t, func(idp *testop.Provider, exchange func(audience string) federation.TokenExchange) []federation.Upstream {
		upstreams = []*exchangeUpstream{{idp: idp, audience: "docs"}, {idp: idp, audience: "notes", stateless: true}}
		var cfgs []federation.Upstream
		for _, u := range upstreams {
			cfgs = append(cfgs, federation.Upstream{Name: u.audience, URL: u.serve(t), Prefix: u.audience,
				Auth: federation.Auth{TokenExchange: exchange(u.audience)}})
		}
		return cfgs
	})
	idp, base, logs, userA, userB, alice, bob := tx.idp, tx.base, tx.logs, tx.userA, tx.userB, tx.alice, tx.bob
	waitForTools(t, alice, "docs__whoami", "notes__whoami")
	call := func(cs *mcp.ClientSession, tool, subject string) {
		t.Helper()
		if got, err := callText(t.Context(), cs, tool, map[string]any{}); err != nil || got != "sub="+subject {
			t.Fatalf("%s as %s: %q, %v; want sub=%s", tool, subject, got, err, subject)
		}
	}
	for _, u := range upstreams {
		tool := u.audience + "__whoami"
		call(alice, tool, testop.UserSubject)
		call(alice, tool, testop.UserSubject)
		call(bob, tool, testop.SecondUserSubject)
	}

	var exchanged []string // every token an upstream received for a user
	for _, u := range upstreams {
		calls, subjects, refused := u.seen()
		if len(calls) != 3 {
			t.Fatalf("%s saw %d tool calls, want 3", u.audience, len(calls))
		}
		for i, want := range []string{testop.UserSubject, testop.UserSubject, testop.SecondUserSubject} {
			c := calls[i]
			if c.subject != want || c.actor != testop.FederationClientID {
				t.Errorf("%s, call %d: the token names sub %q acted for by %q, want %q by %q", u.audience, i, c.subject, c.actor, want, testop.FederationClientID)
			}
			if c.token == userA || c.token == userB {
				t.Errorf("%s, call %d: the upstream received the client's own token", u.audience, i)
			}
			exchanged = append(exchanged, c.token)
		}
		if calls[0].token != calls[1].token {
			t.Errorf("%s: user A's second call carried another token: the exchanged token was not kept", u.audience)
		}
		if calls[0].token == calls[2].token {
			t.Errorf("%s: users A and B were given the same token", u.audience)
		}
		if refused != 0 || !slices.Contains(subjects, testop.FederationClientID) {
			t.Errorf("%s refused %d requests and saw the subjects %v; want none refused, and the federation's own requests (connecting, the catalogue) as %s",
				u.audience, refused, slices.Compact(slices.Sorted(slices.Values(subjects))), testop.FederationClientID)
		}
	}
	if got := idp.Exchanges(); got[testop.UserSubject] != 2 || got[testop.SecondUserSubject] != 2 {
		t.Errorf("token exchanges by subject: %v, want two each (one per upstream) for %s and %s", got, testop.UserSubject, testop.SecondUserSubject)
	}

	// A principal whose exchange the identity provider refuses: the service client
	// (client credentials to the mesh, subject sid1).
	idp.RefuseExchangesFor(testop.ServiceClientID)
	service, err := idp.ClientCredentialsToken(t.Context(), "mcp:tools")
	if err != nil {
		t.Fatal(err)
	}
	res, err := bearerSession(t, base, service).CallTool(t.Context(), &mcp.CallToolParams{Name: "docs__whoami", Arguments: map[string]any{}})
	refusal := fmt.Sprint(err)
	if err == nil {
		if len(res.Content) > 0 {
			if text, ok := res.Content[0].(*mcp.TextContent); ok {
				refusal = text.Text
			}
		}
		if !res.IsError {
			t.Fatalf("the refused caller's call succeeded: %s", refusal)
		}
	}
	if want := "the token exchange for upstream docs was refused by the identity provider (invalid_grant)"; refusal != want {
		t.Errorf("the refused caller got %q, want %q", refusal, want)
	}
	if calls, _, _ := upstreams[0].seen(); len(calls) != 3 {
		t.Errorf("docs saw %d tool calls after the refusal, want still 3", len(calls))
	}

	// Nothing secret in the log: neither the clients' tokens, nor the exchanged ones,
	// nor the federation's secret.
	log := logs.String()
	for _, want := range []string{"upstream=docs protocol_version=2025-11-25", "upstream=notes protocol_version=2026-07-28", "token exchange refused"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	secrets := map[string]string{"user A's token": userA, "user B's token": userB, "the service's token": service, "the client secret": testop.FederationClientSecret}
	for i, tok := range exchanged {
		secrets[fmt.Sprintf("exchanged token %d", i)] = tok
	}
	for name, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %s", name)
		}
	}
}

// tokenExchangeMesh is an in-process mesh whose gateway takes OAuth tokens of the test
// identity provider and whose federation exchanges its callers' assertions there for
// tokens of its upstreams; with the tokens and sessions of two users.
type tokenExchangeMesh struct {
	idp          *testop.Provider
	base         string      // the gateway's URL
	logs         *syncBuffer // the mesh's log, debug level
	userA, userB string      // the users' own tokens
	alice, bob   *mcp.ClientSession
}

// startTokenExchangeMesh starts that mesh with the upstreams that upstreams returns;
// exchange is the auth.token_exchange of an upstream of that audience (scope
// "<audience>.read").
func startTokenExchangeMesh(t *testing.T, upstreams func(idp *testop.Provider, exchange func(audience string) federation.TokenExchange) []federation.Upstream) *tokenExchangeMesh {
	t.Helper()
	addr := closedAddress(t)
	resource := "http://" + addr + "/mcp"
	jwks := "http://" + addr + assertion.JWKSPath
	idp := testop.Start(t, resource)
	idp.TrustMeshAssertions(assertion.DefaultIssuer, jwks)
	secretFile := filepath.Join(t.TempDir(), "federation-secret")
	if err := os.WriteFile(secretFile, []byte(testop.FederationClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	exchange := func(audience string) federation.TokenExchange {
		return federation.TokenExchange{
			TokenURL: idp.Issuer + "/oauth/token", ClientID: testop.FederationClientID, ClientSecretFile: secretFile,
			Audience: audience, Scopes: []string{audience + ".read"}, AssertionJWKSURL: jwks,
		}
	}

	cfg := allInOne(t)
	cfg.Target = strings.Join([]string{meshconfig.TargetRegistry, meshconfig.TargetFederation, meshconfig.TargetSession,
		meshconfig.TargetTransport, meshconfig.TargetHealth, meshconfig.TargetGateway}, ",")
	cfg.Gateway.Listen = addr
	cfg.Auth.Mode = "oauth"
	cfg.Auth.OAuth.Issuer = idp.Issuer
	cfg.Auth.OAuth.Resource = resource
	cfg.Auth.OAuth.Scopes = []string{"mcp:tools"}
	cfg.Federation.Upstreams = upstreams(idp, exchange)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	_, base := startMeshLogging(t, cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	login := func(username string) string {
		t.Helper()
		tok, err := idp.UserToken(t.Context(), username, testop.Password, resource, "mcp:tools")
		if err != nil {
			t.Fatalf("log in as %s: %v", username, err)
		}
		return tok
	}
	tx := &tokenExchangeMesh{idp: idp, base: base, logs: logs, userA: login(idp.Username()), userB: login(testop.SecondUsername)}
	tx.alice, tx.bob = bearerSession(t, base, tx.userA), bearerSession(t, base, tx.userB)
	return tx
}
