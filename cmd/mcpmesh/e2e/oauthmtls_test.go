package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/testop"
	"github.com/mcpmesh/mcpmesh/sdk/provider"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls/meshtlstest"
)

// The scopes of the OAuth mesh: every request needs baseScope; the policy reserves the
// tool stepUpTool for tokens that also carry stepUpScope.
const (
	baseScope   = "mcp:tools"
	stepUpScope = "mcp:math"
	stepUpTool  = "add"
)

// oauthMesh is the six processes with mutual TLS between them and OAuth at the
// gateway, a real OpenID provider, and a witness provider in the test process that
// records what reaches a provider on behalf of a client.
type oauthMesh struct {
	*tlsMesh
	idp      *testop.Provider
	resource string
	witness  *witness
}

// witness is a provider (sdk/provider) served with the mesh's mutual TLS, whose tool
// whoami answers with the verified assertion's claims and keeps the gRPC metadata of
// every call.
type witness struct {
	mu       sync.Mutex
	metadata []metadata.MD
}

const witnessName = "witness"

type whoamiOut struct {
	Subject         string   `json:"subject"`
	Audience        []string `json:"audience"`
	PrincipalIssuer string   `json:"principal_issuer"`
	Scope           string   `json:"scope"`
}

func (w *witness) calls() []metadata.MD {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.metadata)
}

// startSixWithOAuthAndTLS starts the mesh: mTLS everywhere (as TestSixProcessesWithMutualTLS),
// auth.mode oauth at the gateway with the test's OpenID provider as issuer, a policy
// that reserves stepUpTool for stepUpScope, assertion keys shared by the session (which
// signs) and the gateway (which publishes), and the witness provider.
func startSixWithOAuthAndTLS(t *testing.T) *oauthMesh {
	dir := t.TempDir()
	m := &oauthMesh{tlsMesh: &tlsMesh{dir: dir, ca: meshtlstest.NewCA(t, "mesh CA")}}
	m.ca.WriteCA(t, dir)
	// The resource names the gateway's URL before it listens.
	addr := reservedAddr(t)
	m.resource = "http://" + addr + "/mcp"
	m.idp = testop.Start(t, m.resource)
	m.moreProviders = map[string]string{witnessName: meshID + witnessName}
	m.extraYAML = fmt.Sprintf(`auth:
  mode: oauth
  oauth:
    issuer: %s
    resource: %s
    scopes: [%s]
    jwks_refresh_interval: 50ms
  policy:
    default: allow
    rules:
      - name: sums need %s
        tools: [%q]
        require_scopes: [%q]
  assertion:
    signing_key_files: [%s]
`, m.idp.Issuer, m.resource, baseScope, stepUpScope, stepUpTool, stepUpScope, writeAssertionKey(t, dir))
	m.startSix(t, addr)
	m.witness = m.serveWitness(t)

	token := m.clientCredentials(t, baseScope)
	eventually.NoError(t, 20*time.Second, func() error {
		names, err := listedToolsWith(bearer(token), m.base)
		switch {
		case err != nil:
			return err
		case !slices.Contains(names, "echo") || !slices.Contains(names, "whoami"):
			return fmt.Errorf("tools listed: %v; want echo and whoami", names)
		}
		return nil
	}, "the OAuth mesh at %s lists the everything and witness tools", m.base)
	return m
}

// writeAssertionKey writes a P-256 key for auth.assertion.signing_key_files.
func writeAssertionKey(t *testing.T, dir string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "assertion.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// serveWitness serves the witness provider with its own mesh certificate, registered
// with the registry, until the test ends. It verifies every assertion against the keys
// the gateway publishes, for its own name as the audience.
func (m *oauthMesh) serveWitness(t *testing.T) *witness {
	t.Helper()
	w := &witness{}
	leaf := m.ca.Issue(t, m.dir, witnessName, meshID+witnessName, "127.0.0.1")
	files, err := meshtls.Load(meshtls.Config{CertFile: leaf.CertFile, KeyFile: leaf.KeyFile, CAFile: filepath.Join(m.dir, "ca.pem"), ClientAuth: "require"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := meshtls.ServerOption(files)
	if err != nil {
		t.Fatal(err)
	}
	verifier := &assertion.Verifier{Keys: &assertion.RemoteKeys{URL: m.base + assertion.JWKSPath}, Audience: witnessName}
	whoami := provider.Tool("whoami", "Tells who the mesh says is calling.", func(ctx context.Context, _ struct{}) (whoamiOut, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		w.mu.Lock()
		w.metadata = append(w.metadata, md.Copy())
		w.mu.Unlock()
		claims, err := verifier.Verify(ctx, provider.Assertion(ctx))
		if err != nil {
			return whoamiOut{}, err
		}
		return whoamiOut{Subject: claims.Subject, Audience: claims.Audience, PrincipalIssuer: claims.PrincipalIssuer, Scope: claims.Scope}, nil
	})
	srv, err := provider.New(provider.Options{
		Name:    witnessName,
		Version: "1.0.0",
		VerifyAssertion: func(ctx context.Context, token string) error {
			_, err := verifier.Verify(ctx, token)
			return err
		},
	}, whoami)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(ctx, lis, provider.ServeOptions{
			Registry:      m.processes["registry"].GRPC,
			Lease:         5 * time.Second,
			ServerOptions: []grpc.ServerOption{creds},
			DialOptions:   []grpc.DialOption{meshtls.DialOption(files)},
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("witness provider: %v", err)
		}
	})
	return w
}

// clientCredentials gets a token for the service client from the OpenID provider.
func (m *oauthMesh) clientCredentials(t *testing.T, scopes ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token, err := m.idp.ClientCredentialsToken(ctx, scopes...)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// bearer is an HTTP client that sends token.
func bearer(token string) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// listedToolsWith is one stateless tools/list page's tool names, asked with c.
func listedToolsWith(c *http.Client, base string) ([]string, error) {
	resp, err := postStatelessWith(c, base, "tools/list", "", `{}`)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("tools/list answered %d", resp.StatusCode)
	}
	var out struct {
		Result struct {
			Tools []struct{ Name string } `json:"tools"`
		} `json:"result"`
	}
	if err := decodeJSON(resp, &out); err != nil {
		return nil, err
	}
	var names []string
	for _, tool := range out.Result.Tools {
		names = append(names, tool.Name)
	}
	return names, nil
}

// TestOAuthAndMutualTLSThroughSixProcesses runs OAuth at the edge and mutual TLS inside
// together, across the six processes: the official Go SDK client (client credentials,
// on 2025-11-25 and on 2026-07-28) and the official TypeScript clients (authorization
// code with PKCE, then a step-up: the v1 SDK on 2025-11-25, the v2 client pinned to
// 2026-07-28) each find the authorization server from the gateway's 401 and call tools;
// the provider receives a mesh-signed assertion of the caller, never the client's token; a
// token short of a tool's scope gets 403 insufficient_scope; a peer without a client
// certificate is refused by the services that trust the principal in gRPC metadata;
// the OpenID provider's signing key rotates during the run.
func TestOAuthAndMutualTLSThroughSixProcesses(t *testing.T) {
	m := startSixWithOAuthAndTLS(t)

	t.Run("no token: 401 naming the protected-resource metadata", func(t *testing.T) {
		resp, err := http.Post(m.base+"/mcp", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		want := `Bearer resource_metadata="` + strings.TrimSuffix(m.base, "/") + `/.well-known/oauth-protected-resource/mcp", scope="` + baseScope + `"`
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
			t.Fatalf("%d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
		}
	})

	// Every token a client sent, to look for in what the provider received.
	var tokensMu sync.Mutex
	var tokens []string
	recordTokens := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tokensMu.Lock()
			tokens = append(tokens, tok)
			tokensMu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	})

	// The runs that called the witness's whoami (a skipped TypeScript run did not).
	whoamiRuns := 0
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run("Go SDK client credentials "+version, func(t *testing.T) {
			handler, err := extauth.NewClientCredentialsHandler(&extauth.ClientCredentialsHandlerConfig{
				Credentials: &oauthex.ClientCredentials{ClientID: testop.ServiceClientID, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: testop.ServiceClientSecret}},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client := mcp.NewClient(&mcp.Implementation{Name: "oauth-mtls-test", Version: "1"}, nil)
			session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
				Endpoint: m.base + "/mcp", OAuthHandler: handler, MaxRetries: -1, HTTPClient: &http.Client{Transport: recordTokens},
			}, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer func() { _ = session.Close() }()
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "through six processes"}})
			if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "Echo: through six processes" {
				t.Fatalf("tools/call echo: %v %+v", err, res)
			}
			res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
			if err != nil || res.IsError {
				t.Fatalf("tools/call whoami: %v %+v", err, res)
			}
			whoamiRuns++
			var who whoamiOut
			if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &who); err != nil {
				t.Fatal(err)
			}
			if who.Subject != testop.ServiceClientID || who.PrincipalIssuer != m.idp.Issuer || !slices.Equal(who.Audience, []string{witnessName}) || who.Scope != baseScope {
				t.Fatalf("the witness's assertion says %+v; want subject %s from %s, audience [%s], scope %s", who, testop.ServiceClientID, m.idp.Issuer, witnessName, baseScope)
			}
		})
	}

	record := func(tok string) {
		if tok != "" {
			tokensMu.Lock()
			tokens = append(tokens, tok)
			tokensMu.Unlock()
		}
	}
	for _, c := range tsOAuthClients {
		t.Run("TypeScript "+c.generation+" "+c.protocol+" authorization code with PKCE and step-up", func(t *testing.T) {
			m.runTypeScriptOAuth(t, c, record)
			whoamiRuns++
		})
	}

	t.Run("the provider gets an assertion, never the token", func(t *testing.T) {
		calls := m.witness.calls()
		if want := max(2, whoamiRuns); len(calls) < want {
			t.Fatalf("the witness saw %d calls, want at least %d: one per Go SDK and TypeScript client run", len(calls), want)
		}
		tokensMu.Lock()
		sent := slices.Clone(tokens)
		tokensMu.Unlock()
		if len(sent) == 0 {
			t.Fatal("no token was recorded on the clients' requests")
		}
		for i, md := range calls {
			if got := md.Get(provider.AssertionHeader); len(got) != 1 || got[0] == "" {
				t.Errorf("call %d: %s = %q, want one assertion", i, provider.AssertionHeader, got)
			}
			for key, values := range md {
				if key == "authorization" {
					t.Errorf("call %d carries an authorization entry", i)
				}
				for _, v := range values {
					for _, tok := range sent {
						if strings.Contains(v, tok) || strings.Contains(v, tok[strings.LastIndexByte(tok, '.')+1:]) {
							t.Errorf("call %d: metadata %s carries a client's token", i, key)
						}
					}
				}
			}
		}
	})

	t.Run("a token short of the tool's scope gets 403 insufficient_scope", func(t *testing.T) {
		resp, err := postStatelessWith(bearer(m.clientCredentials(t, baseScope)), m.base, "tools/call", stepUpTool, `{"name":"`+stepUpTool+`","arguments":{"a":2,"b":3}}`)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		challenge := resp.Header.Get("WWW-Authenticate")
		// Every scope the call needs, the base scope included: a client that replaces its
		// scope with the challenge's keeps access to the rest.
		if want := `scope="` + baseScope + ` ` + stepUpScope + `", error="insufficient_scope"`; resp.StatusCode != http.StatusForbidden || !strings.Contains(challenge, want) {
			t.Fatalf("%d %q, want 403 with %s", resp.StatusCode, challenge, want)
		}
		// With the scope, the same call goes through.
		resp, err = postStatelessWith(bearer(m.clientCredentials(t, baseScope, stepUpScope)), m.base, "tools/call", stepUpTool, `{"name":"`+stepUpTool+`","arguments":{"a":2,"b":3}}`)
		if err != nil {
			t.Fatal(err)
		}
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Error != nil || !strings.Contains(string(out.Result), `\"sum\":5`) {
			t.Fatalf("with %s: %v %+v %s", stepUpScope, err, out.Error, out.Result)
		}
	})

	t.Run("the OpenID provider's signing key rotates", func(t *testing.T) {
		m.idp.Rotate(testop.NewKey(t, "key-2"))
		m.idp.Retire()
		// A token signed with the new key names a kid the gateway has not seen: it
		// fetches the keys again (at most once per jwks_refresh_interval).
		c := bearer(m.clientCredentials(t, baseScope))
		eventually.NoError(t, 10*time.Second, func() error {
			resp, err := postStatelessWith(c, m.base, "tools/call", "echo", `{"name":"echo","arguments":{"message":"rotated"}}`)
			if err != nil {
				return err
			}
			var out rpcResponse
			if err := decodeJSON(resp, &out); err != nil {
				return fmt.Errorf("status %d: %w", resp.StatusCode, err)
			}
			if out.Error != nil || !strings.Contains(string(out.Result), "Echo: rotated") {
				return fmt.Errorf("echo answered %s %+v", out.Result, out.Error)
			}
			return nil
		}, "a token signed with the rotated key is accepted")
	})

	t.Run("a peer without a client certificate is refused", func(t *testing.T) {
		for _, name := range []string{"session", "registry", "transport"} {
			addr := m.processes[name].GRPC
			if err := healthCheck(addr, m.as(t, m.ca, meshID+"gateway")); err != nil {
				t.Fatalf("%s with a mesh certificate: %v", name, err)
			}
			pool := x509.NewCertPool()
			pool.AddCert(m.ca.Cert)
			noCert := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
			if got := status.Code(healthCheck(addr, noCert)); got != codes.Unavailable {
				t.Fatalf("%s without a client certificate: %v, want Unavailable (handshake refused)", name, got)
			}
		}
	})
}

// healthCheck asks addr's gRPC health service, dialled with opt.
func healthCheck(addr string, opt grpc.DialOption) error {
	cc, err := grpc.NewClient(addr, opt)
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}
