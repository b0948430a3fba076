package mesh

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	federationv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/federation/v1"
	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// The federation's upstream admin API (UpstreamAdminService): REST on the admin
// listener behind its token, gRPC on the mesh's gRPC port; upstreams kept in memory,
// or in PostgreSQL and followed by every replica.

const adminTestToken = "upstream-admin-token-0123456789"

// withAdminToken serves cfg's admin listener on a free port behind adminTestToken.
func withAdminToken(t testing.TB, cfg *meshconfig.Config) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(file, []byte(adminTestToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Admin.Auth.BearerTokenFile = file
}

// adminAPI calls the REST routes of one admin listener.
type adminAPI struct {
	t     testing.TB
	base  string
	token string
}

func newAdminAPI(t testing.TB, m *Mesh) adminAPI {
	return adminAPI{t: t, base: "http://" + m.AdminAddress(), token: adminTestToken}
}

// do sends one request and returns the status and the body.
func (a adminAPI) do(method, path, body string) (int, string) {
	a.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

// must sends one request that must answer 200, and decodes the answer into out.
func (a adminAPI) must(method, path, body string, out any) {
	a.t.Helper()
	code, raw := a.do(method, path, body)
	if code != http.StatusOK {
		a.t.Fatalf("%s %s: %d %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(raw), out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

// upstreamJSON is an upstream as the REST answers show it.
type upstreamJSON struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Prefix     string `json:"prefix"`
	Source     string `json:"source"`
	UpdateTime string `json:"update_time"`
}

// listed returns "name source" of every upstream the admin API lists, in its order.
func (a adminAPI) listed() []string {
	a.t.Helper()
	var list struct {
		Upstreams []upstreamJSON `json:"upstreams"`
	}
	a.must(http.MethodGet, "/v1/admin/upstreams", "", &list)
	out := make([]string, len(list.Upstreams))
	for i, u := range list.Upstreams {
		out[i] = u.Name + " " + u.Source
	}
	return out
}

// waitForToolText waits until the tool answers through cs with text starting with want.
func waitForToolText(t testing.TB, cs *mcp.ClientSession, tool, want string) {
	t.Helper()
	eventually.NoError(t, 15*time.Second, func() error {
		got, err := callText(t.Context(), cs, tool, map[string]any{})
		if err != nil {
			return err
		}
		if !strings.HasPrefix(got, want) {
			return fmt.Errorf("answered %q", got)
		}
		return nil
	}, "%s answers %q...", tool, want)
}

// wantUnknownTool checks that calling tool through cs is refused as an unknown tool.
func wantUnknownTool(t testing.TB, cs *mcp.ClientSession, tool string) {
	t.Helper()
	got, err := callText(t.Context(), cs, tool, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "nknown tool") {
		t.Errorf("calling %s: %q, %v; want an unknown tool", tool, got, err)
	}
}

// An upstream put through REST on the admin listener (with its token; 401 without)
// is served through /mcp; a new prefix renames its tools; deleting it takes them
// away, and calls of them answer unknown tool.
func TestUpstreamAdminPutChangeDelete(t *testing.T) {
	alpha := serveUpstream(t, newUpstreamServer("alpha", nil))
	beta := serveUpstream(t, newUpstreamServer("beta", nil))
	cfg := federatedConfig(t, federation.Upstream{Name: "alpha", URL: alpha, Prefix: "a", Tools: federation.Filter{Include: []string{"whoami"}}})
	withAdminToken(t, &cfg)
	m, base := startMesh(t, cfg)
	admin := newAdminAPI(t, m)
	cs := meshSession(t, base, nil)
	waitForTools(t, cs, "a__whoami")

	spec := func(prefix string) string {
		return fmt.Sprintf(`{"url": %q, "prefix": %q, "tools": {"include": ["whoami", "search_docs"]}, "call_timeout": "20s"}`, beta, prefix)
	}
	noToken := adminAPI{t: t, base: admin.base}
	if code, body := noToken.do(http.MethodPut, "/v1/admin/upstreams/beta", spec("b")); code != http.StatusUnauthorized {
		t.Fatalf("PUT without the admin token: %d %s, want 401", code, body)
	}
	if code, body := noToken.do(http.MethodGet, "/v1/admin/upstreams", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET without the admin token: %d %s, want 401", code, body)
	}

	var put struct {
		Upstream upstreamJSON `json:"upstream"`
		Created  bool         `json:"created"`
	}
	admin.must(http.MethodPut, "/v1/admin/upstreams/beta", spec("b"), &put)
	if !put.Created || put.Upstream.Name != "beta" || put.Upstream.Source != "UPSTREAM_SOURCE_API" || put.Upstream.UpdateTime == "" {
		t.Errorf("first PUT answered %+v", put)
	}
	waitForTools(t, cs, "a__whoami", "b__search_docs", "b__whoami")
	waitForToolText(t, cs, "b__whoami", "beta pid")
	if got, want := admin.listed(), []string{"alpha UPSTREAM_SOURCE_CONFIG", "beta UPSTREAM_SOURCE_API"}; !equalStrings(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}

	// A new prefix renames the tools (created is false: omitted from the answer).
	put.Created, put.Upstream = false, upstreamJSON{}
	admin.must(http.MethodPut, "/v1/admin/upstreams/beta", spec("c"), &put)
	if put.Created || put.Upstream.Prefix != "c" {
		t.Errorf("second PUT answered %+v, want created false and prefix c", put)
	}
	waitForTools(t, cs, "a__whoami", "c__search_docs", "c__whoami")
	waitForToolText(t, cs, "c__whoami", "beta pid")
	wantUnknownTool(t, cs, "b__whoami")
	var got struct {
		Upstream upstreamJSON `json:"upstream"`
	}
	admin.must(http.MethodGet, "/v1/admin/upstreams/beta", "", &got)
	if got.Upstream.URL != beta || got.Upstream.Prefix != "c" {
		t.Errorf("GET beta: %+v", got.Upstream)
	}

	if err := servedAs(m, base, "beta", healthpb.HealthCheckResponse_SERVING, true); err != nil {
		t.Fatalf("before the delete: %v", err)
	}

	admin.must(http.MethodDelete, "/v1/admin/upstreams/beta", "", nil)
	waitForTools(t, cs, "a__whoami")
	wantUnknownTool(t, cs, "c__whoami")
	// Deregistered, off the process's ProviderService, reported NOT_SERVING.
	eventually.NoError(t, 10*time.Second, func() error {
		return servedAs(m, base, "beta", healthpb.HealthCheckResponse_NOT_SERVING, false)
	}, "beta is gone from the registry and the provider server")
	if code, body := admin.do(http.MethodGet, "/v1/admin/upstreams/beta", ""); code != http.StatusNotFound {
		t.Errorf("GET a deleted upstream: %d %s, want 404", code, body)
	}
	if code, body := admin.do(http.MethodDelete, "/v1/admin/upstreams/beta", ""); code != http.StatusNotFound {
		t.Errorf("DELETE a deleted upstream: %d %s, want 404", code, body)
	}
	// The configured upstream went on answering throughout, and the process stays
	// ready (the deleted upstream is not expected in the catalogue any more).
	waitForToolText(t, cs, "a__whoami", "alpha pid")
	waitReady(t, base)
}

// Bad requests get the status and a message that names what to change, and leave the
// stored upstreams as they were.
func TestUpstreamAdminRefusesBadInput(t *testing.T) {
	alpha := serveUpstream(t, newUpstreamServer("alpha", nil))
	cfg := federatedConfig(t, federation.Upstream{Name: "alpha", URL: alpha})
	// The everything provider is a provider of the registry that is no upstream.
	cfg.Target += "," + meshconfig.TargetProviderEverything
	withAdminToken(t, &cfg)
	m, base := startMesh(t, cfg)
	admin := newAdminAPI(t, m)
	eventually.True(t, 10*time.Second, func() bool {
		resp, err := http.Get(base + "/v1/providers")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return strings.Contains(string(body), `"everything"`)
	}, "the everything provider is registered")
	before := admin.listed()

	up := serveUpstream(t, newUpstreamServer("other", nil))
	tests := []struct {
		name, path, body string
		wantCode         int
		wantMessage      []string
	}{
		{"invalid name", "/v1/admin/upstreams/Bad.Name", fmt.Sprintf(`{"url": %q}`, up), http.StatusBadRequest, []string{"upstream.name", "lowercase letters"}},
		{"bad URL", "/v1/admin/upstreams/other", `{"url": "ftp://example.com/mcp"}`, http.StatusBadRequest, []string{"upstream.url", "absolute http or https URL"}},
		{"credentials in the URL", "/v1/admin/upstreams/other", `{"url": "https://user:pw@example.com/mcp"}`, http.StatusBadRequest, []string{"upstream.url", "auth.bearer_file"}},
		{"no url nor command", "/v1/admin/upstreams/other", `{"prefix": "o"}`, http.StatusBadRequest, []string{"set url (HTTP) or command (stdio)"}},
		{"unknown field", "/v1/admin/upstreams/other", fmt.Sprintf(`{"url": %q, "prefx": "o"}`, up), http.StatusBadRequest, []string{`unknown field "prefx"`}},
		{"bad glob", "/v1/admin/upstreams/other", fmt.Sprintf(`{"url": %q, "tools": {"include": ["["]}}`, up), http.StatusBadRequest, []string{"upstream.tools", "bad glob"}},
		{"oauth without its secret file", "/v1/admin/upstreams/other", fmt.Sprintf(`{"url": %q, "auth": {"oauth": {"token_url": "https://idp.example/token", "client_id": "mesh"}}}`, up), http.StatusBadRequest, []string{"upstream.auth.oauth.client_secret_file: required"}},
		{"token exchange over plain HTTP", "/v1/admin/upstreams/other", fmt.Sprintf(`{"url": %q, "auth": {"token_exchange": {"token_url": "http://idp.example/token", "client_id": "mesh", "client_secret_file": "/run/secrets/x", "audience": "other", "assertion_jwks_url": "https://mesh.example/.well-known/jwks.json"}}}`, up), http.StatusBadRequest, []string{"upstream.auth.token_exchange.token_url", "https"}},
		{"two kinds of credentials", "/v1/admin/upstreams/other", fmt.Sprintf(`{"url": %q, "auth": {"bearer_file": "/run/secrets/t", "oauth": {"token_url": "https://idp.example/token"}}}`, up), http.StatusBadRequest, []string{"oneof"}},
		{"two names", "/v1/admin/upstreams/other", fmt.Sprintf(`{"name": "another", "url": %q}`, up), http.StatusBadRequest, []string{"upstream.name", `"another"`, `"other"`}},
		{"command refused", "/v1/admin/upstreams/other", `{"command": ["/bin/sh", "-c", "id"]}`, http.StatusForbidden, []string{"upstream.command", "federation.admin.allow_commands"}},
		{"a configured upstream's name", "/v1/admin/upstreams/alpha", fmt.Sprintf(`{"url": %q}`, up), http.StatusConflict, []string{"configuration file", "federation.upstreams", "read-only"}},
		{"another provider's name", "/v1/admin/upstreams/everything", fmt.Sprintf(`{"url": %q}`, up), http.StatusConflict, []string{"already registered", "choose another name"}},
		{"not JSON", "/v1/admin/upstreams/other", `{"url": `, http.StatusBadRequest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := admin
			admin.t = t
			code, body := admin.do(http.MethodPut, tt.path, tt.body)
			if code != tt.wantCode {
				t.Fatalf("PUT %s: %d %s, want %d", tt.path, code, body, tt.wantCode)
			}
			var answer struct {
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &answer); err != nil {
				t.Fatalf("answer %s: %v", body, err)
			}
			for _, w := range tt.wantMessage {
				if !strings.Contains(answer.Message, w) {
					t.Errorf("message %q lacks %q", answer.Message, w)
				}
			}
		})
	}
	if code, body := admin.do(http.MethodDelete, "/v1/admin/upstreams/alpha", ""); code != http.StatusBadRequest || !strings.Contains(body, "configuration file") {
		t.Errorf("DELETE a configured upstream: %d %s, want 400 naming the configuration file", code, body)
	}
	if after := admin.listed(); !equalStrings(after, before) {
		t.Errorf("after the refused requests the API lists %v, before %v", after, before)
	}
}

// Without a credential on the admin listener the REST routes and their OpenAPI
// document are not served there (its /metrics is); the gRPC service on the mesh's gRPC port still answers, with the
// same checks (a command is PermissionDenied).
func TestUpstreamAdminOverGRPCOnly(t *testing.T) {
	cfg := federatedConfig(t)
	cfg.Admin.Listen = "127.0.0.1:0"
	m, base := startMesh(t, cfg)
	admin := adminAPI{t: t, base: "http://" + m.AdminAddress()}
	if code, body := admin.do(http.MethodGet, "/v1/admin/upstreams", ""); code != http.StatusNotFound {
		t.Errorf("GET /v1/admin/upstreams on an admin listener without a credential: %d %s, want 404", code, body)
	}
	if code, body := admin.do(http.MethodGet, "/openapi.json", ""); code != http.StatusNotFound {
		t.Errorf("GET /openapi.json on an admin listener without a credential: %d %s, want 404", code, body)
	}
	if code, _ := admin.do(http.MethodGet, "/metrics", ""); code != http.StatusOK {
		t.Errorf("/metrics: %d, want 200", code)
	}

	client := upstreamAdminClient(t, m)
	_, err := client.PutUpstream(t.Context(), &federationv1.PutUpstreamRequest{Name: "sh", Upstream: &federationv1.Upstream{Command: []string{"/bin/sh"}}})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("a command over gRPC: %v, want PermissionDenied", err)
	}
	beta := serveUpstream(t, newUpstreamServer("beta", nil))
	if _, err := client.PutUpstream(t.Context(), &federationv1.PutUpstreamRequest{Name: "beta", Upstream: &federationv1.Upstream{Url: beta, Prefix: "b"}}); err != nil {
		t.Fatal(err)
	}
	cs := meshSession(t, base, nil)
	waitForToolText(t, cs, "b__whoami", "beta pid")
}

// upstreamAdminClient is a gRPC client of m's UpstreamAdminService over its gRPC port.
func upstreamAdminClient(t testing.TB, m *Mesh) federationv1.UpstreamAdminServiceClient {
	t.Helper()
	grpcAddr, _ := m.Addresses()
	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return federationv1.NewUpstreamAdminServiceClient(cc)
}

// Two replicas share one database: a replica that starts later serves the upstreams
// already stored; an upstream put on one replica is callable through the other within
// about a second; one deleted on the other leaves both.
func TestUpstreamAdminReplicasShareTheDatabase(t *testing.T) {
	db := pgtest.NewDatabase(t)
	// beta answers initialize (a request without a session) after 300 ms, so that a
	// replica ready before beta's first connection ended would list no beta tools.
	betaServer := newUpstreamServer("beta", nil)
	betaHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return betaServer }, nil)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Mcp-Session-Id") == "" {
			time.Sleep(300 * time.Millisecond)
		}
		betaHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	closeSessionsAtEnd(t, betaServer)
	beta := slow.URL
	gamma := serveUpstream(t, newUpstreamServer("gamma", nil))
	replica := func(admin bool) (*Mesh, string) {
		cfg := federatedConfig(t)
		cfg.Database.URL = db
		cfg.Database.MigrateOnStart = true
		if admin {
			withAdminToken(t, &cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		return startMesh(t, cfg)
	}
	first, firstBase := replica(true)
	admin := newAdminAPI(t, first)
	admin.must(http.MethodPut, "/v1/admin/upstreams/beta", fmt.Sprintf(`{"url": %q, "prefix": "b"}`, beta), nil)

	second, secondBase := replica(false)
	onSecond := meshSession(t, secondBase, nil)
	// Ready means the stored upstreams are in its catalogue already.
	if names, err := toolNames(t.Context(), onSecond); err != nil || !slices.Contains(names, "b__whoami") {
		t.Errorf("the later replica, once ready, lists %v (%v); want b__whoami among them", names, err)
	}
	waitForToolText(t, onSecond, "b__whoami", "beta pid")

	// A put on the first replica reaches the second through the database.
	put := time.Now()
	admin.must(http.MethodPut, "/v1/admin/upstreams/gamma", fmt.Sprintf(`{"url": %q, "prefix": "g"}`, gamma), nil)
	waitForToolText(t, onSecond, "g__whoami", "gamma pid")
	t.Logf("a PUT on one replica was callable on the other after %s", time.Since(put).Round(time.Millisecond))

	// A delete on the second replica (over gRPC) takes beta away from the first.
	onFirst := meshSession(t, firstBase, nil)
	waitForToolText(t, onFirst, "b__whoami", "beta pid")
	if _, err := upstreamAdminClient(t, second).DeleteUpstream(t.Context(), &federationv1.DeleteUpstreamRequest{Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	waitForTools(t, onFirst, "g__delete_docs", "g__log", "g__progress", "g__search_docs", "g__touch", "g__wait", "g__whoami")
	wantUnknownTool(t, onFirst, "b__whoami")
	if got, want := admin.listed(), []string{"gamma UPSTREAM_SOURCE_API"}; !equalStrings(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}

// servedAs checks how m serves the provider name: in the registry's list (GET
// /v1/providers) and on the process's ProviderService or not, with its grpc.health.v1
// status.
func servedAs(m *Mesh, base, name string, health healthpb.HealthCheckResponse_ServingStatus, served bool) error {
	if got := slices.Contains(m.providers.Names(), name); got != served {
		return fmt.Errorf("on the provider server: %v, want %v", got, served)
	}
	resp, err := m.grpcServer.Health().Check(context.Background(), &healthpb.HealthCheckRequest{Service: federation.HealthName(name)})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if resp.GetStatus() != health {
		return fmt.Errorf("health %v, want %v", resp.GetStatus(), health)
	}
	r, err := http.Get(base + "/v1/providers")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if got := strings.Contains(string(body), `"name":"`+name+`"`); got != served {
		return fmt.Errorf("in the registry's providers: %v, want %v (%s)", got, served, body)
	}
	return nil
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n") && len(a) == len(b)
}

// With federation.admin.allow_commands the API puts a stdio upstream (the test binary
// as an MCP server), which the federation starts; answers show its environment's
// names, never the values.
func TestUpstreamAdminCommandsWhenAllowed(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := federatedConfig(t)
	cfg.Federation.Admin.AllowCommands = true
	m, base := startMesh(t, cfg)
	client := upstreamAdminClient(t, m)
	put, err := client.PutUpstream(t.Context(), &federationv1.PutUpstreamRequest{Name: "local", Upstream: &federationv1.Upstream{
		Command: []string{exe}, Env: []string{stdioUpstreamEnv + "=local"}, Prefix: "l",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := put.GetUpstream().GetEnv(); len(got) != 1 || got[0] != stdioUpstreamEnv+"=****" {
		t.Errorf("env answered as %v, want the value masked", got)
	}
	cs := meshSession(t, base, nil)
	waitForToolText(t, cs, "l__whoami", "local pid")
}
