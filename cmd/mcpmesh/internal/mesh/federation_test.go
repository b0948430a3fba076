package mesh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// federatedMesh runs the mesh in one process without the built-in provider, with
// upstreams as its only providers, and returns its base URL.
func federatedMesh(t testing.TB, upstreams ...federation.Upstream) string {
	t.Helper()
	return startWith(t, federatedConfig(t, upstreams...))
}

// federatedConfig is the configuration of federatedMesh.
func federatedConfig(t testing.TB, upstreams ...federation.Upstream) meshconfig.Config {
	t.Helper()
	cfg := allInOne(t)
	cfg.Target = strings.Join([]string{meshconfig.TargetRegistry, meshconfig.TargetFederation, meshconfig.TargetSession,
		meshconfig.TargetTransport, meshconfig.TargetHealth, meshconfig.TargetGateway}, ",")
	cfg.Federation.Upstreams = upstreams
	cfg.Federation.PingInterval = 500 * time.Millisecond
	cfg.Federation.ReconnectMin = 50 * time.Millisecond
	cfg.Federation.ReconnectMax = 500 * time.Millisecond
	cfg.Health.CheckInterval = 200 * time.Millisecond
	// The tests call an upstream that is down until it is back: the session's breaker
	// opens after a few failures, and must let a trial call through soon.
	cfg.Session.Breaker.OpenTimeout = 200 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// meshSession connects the official Go SDK client to the mesh's /mcp at the latest
// stateful protocol version.
func meshSession(t testing.TB, base string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	return sdkSession(t, base+"/mcp", opts)
}

// sdkSession connects the official Go SDK client to an MCP endpoint at the latest
// stateful protocol version.
func sdkSession(t testing.TB, endpoint string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "federation-test", Version: "1.0.0"}, opts)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect to the mesh: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func toolNames(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
	var names []string
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		names = append(names, tool.Name)
	}
	return names, nil
}

// waitForTools waits until the mesh lists exactly want (sorted).
func waitForTools(t testing.TB, cs *mcp.ClientSession, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually.NoError(t, 15*time.Second, func() error {
		got, err := toolNames(t.Context(), cs)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("tools %v", got)
		}
		return nil
	}, "the mesh lists the tools %v", want)
}

// callText calls a tool through the mesh and returns its text, failing on an error.
func callText(ctx context.Context, cs *mcp.ClientSession, name string, args any) (string, error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", err
	}
	if res.IsError || len(res.Content) == 0 {
		return "", fmt.Errorf("tool %s: error result %+v", name, res.Content)
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		return "", fmt.Errorf("tool %s: content %T", name, res.Content[0])
	}
	return text.Text, nil
}

// Two upstreams offer the same names; their prefixes keep them apart, and filters
// take tools and resources out of the catalogue and out of reach.
func TestFederationPrefixesAndFilters(t *testing.T) {
	alpha := serveUpstream(t, newUpstreamServer("alpha", nil))
	beta := serveUpstream(t, newUpstreamServer("beta", nil))
	base := federatedMesh(t,
		federation.Upstream{Name: "alpha", URL: alpha, Prefix: "a",
			Tools:     federation.Filter{Include: []string{"*_docs", "whoami"}, Exclude: []string{"delete*"}},
			Resources: federation.Filter{Exclude: []string{"upstream://alpha/*"}}},
		federation.Upstream{Name: "beta", URL: beta, Prefix: "b", Prompts: federation.Filter{Exclude: []string{"*"}}},
	)
	cs := meshSession(t, base, nil)
	ctx := t.Context()
	waitForTools(t, cs, "a__search_docs", "a__whoami",
		"b__delete_docs", "b__log", "b__progress", "b__search_docs", "b__touch", "b__wait", "b__whoami")

	for name, want := range map[string]string{"a__whoami": "alpha pid", "b__whoami": "beta pid", "a__search_docs": "alpha ran search_docs"} {
		got, err := callText(ctx, cs, name, map[string]any{})
		if err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("%s: got %q, %v; want %q...", name, got, err, want)
		}
	}
	// A filtered tool is not reachable by its exposed name either.
	if got, err := callText(ctx, cs, "a__delete_docs", map[string]any{}); err == nil {
		t.Errorf("a__delete_docs (excluded) answered %q", got)
	}

	var prompts []string
	for p, err := range cs.Prompts(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		prompts = append(prompts, p.Name)
	}
	if !slices.Equal(prompts, []string{"a__greet"}) {
		t.Errorf("prompts %v, want [a__greet] (beta's are excluded)", prompts)
	}
	pr, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "a__greet", Arguments: map[string]string{"who": "Ann"}})
	if err != nil {
		t.Fatalf("get a__greet: %v", err)
	}
	if text, _ := pr.Messages[0].Content.(*mcp.TextContent); text == nil || text.Text != "Hello, Ann, from alpha" {
		t.Errorf("a__greet rendered %+v", pr.Messages[0].Content)
	}

	var uris []string
	for r, err := range cs.Resources(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, r.URI)
	}
	if !slices.Equal(uris, []string{"upstream://beta/readme"}) {
		t.Errorf("resources %v, want only beta's (alpha's are excluded)", uris)
	}
	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "upstream://beta/readme"})
	if err != nil {
		t.Fatalf("read beta's readme: %v", err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].Text != "read me, from beta" {
		t.Errorf("beta's readme: %+v", rr.Contents)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "upstream://alpha/readme"}); err == nil {
		t.Error("alpha's readme (excluded) was read")
	}
}

// Progress and log messages of an upstream tool reach the mesh's client; a call the
// client cancels is cancelled upstream.
func TestFederationForwardsProgressLogsAndCancellation(t *testing.T) {
	hooks := &upstreamHooks{waiting: make(chan struct{}, 1), cancelled: make(chan struct{}, 1)}
	solo := serveUpstream(t, newUpstreamServer("solo", hooks))
	base := federatedMesh(t, federation.Upstream{Name: "solo", URL: solo})

	var mu sync.Mutex
	var progress []string
	var logs []string
	cs := meshSession(t, base, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, fmt.Sprintf("%v %g/%g %s", req.Params.ProgressToken, req.Params.Progress, req.Params.Total, req.Params.Message))
		},
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) { //nolint:staticcheck // the stateful generation still has logging
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, fmt.Sprintf("%s %v", req.Params.Level, req.Params.Data))
		},
	})
	ctx := t.Context()
	waitForTools(t, cs, "delete_docs", "log", "progress", "search_docs", "touch", "wait", "whoami")

	params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{}}
	params.SetProgressToken("tok-1")
	if _, err := cs.CallTool(ctx, params); err != nil {
		t.Fatalf("progress: %v", err)
	}
	wantProgress := []string{"tok-1 1/2 step 1", "tok-1 2/2 step 2"}
	eventually.True(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Equal(progress, wantProgress)
	}, "the client got the upstream's progress %v under its own token (got %v)", wantProgress, progress)

	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil { //nolint:staticcheck // the stateful generation still has logging
		t.Fatal(err)
	}
	if _, err := callText(ctx, cs, "log", map[string]any{}); err != nil {
		t.Fatalf("log: %v", err)
	}
	eventually.True(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(logs, "warning hello from solo")
	}, "the client got the upstream's log message")

	callCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(callCtx, &mcp.CallToolParams{Name: "wait", Arguments: map[string]any{"ms": 60000}})
		errc <- err
	}()
	select {
	case <-hooks.waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("the wait tool never started upstream")
	}
	cancel()
	select {
	case <-hooks.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled after the client cancelled its call")
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call returned %v", err)
	}
}

// A tool added upstream reaches the catalogue and the client's list_changed; a
// resource the upstream says changed reaches its subscribers.
func TestFederationFollowsUpstreamChanges(t *testing.T) {
	server := newUpstreamServer("solo", nil)
	base := federatedMesh(t, federation.Upstream{Name: "solo", URL: serveUpstream(t, server), Prefix: "s"})
	changed := make(chan struct{}, 8)
	updated := make(chan string, 8)
	cs := meshSession(t, base, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) { updated <- req.Params.URI },
	})
	waitForTools(t, cs, "s__delete_docs", "s__log", "s__progress", "s__search_docs", "s__touch", "s__wait", "s__whoami")
	for len(changed) > 0 { // notifications of the first registration
		<-changed
	}

	mcp.AddTool(server, &mcp.Tool{Name: "fresh", Description: "Added at run time."},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "fresh"}}}, nil, nil
		})
	select {
	case <-changed:
	case <-time.After(15 * time.Second):
		t.Fatal("no notifications/tools/list_changed after the upstream added a tool")
	}
	waitForTools(t, cs, "s__delete_docs", "s__fresh", "s__log", "s__progress", "s__search_docs", "s__touch", "s__wait", "s__whoami")
	if got, err := callText(t.Context(), cs, "s__fresh", map[string]any{}); err != nil || got != "fresh" {
		t.Errorf("s__fresh: %q, %v", got, err)
	}

	const readme = "upstream://solo/readme"
	if err := cs.Subscribe(t.Context(), &mcp.SubscribeParams{URI: readme}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	// The mesh's watch of the provider may open after the subscription: touch until
	// a notice arrives.
	eventually.NoError(t, 15*time.Second, func() error {
		if _, err := callText(t.Context(), cs, "s__touch", map[string]any{}); err != nil {
			return err
		}
		select {
		case uri := <-updated:
			if uri != readme {
				return fmt.Errorf("update for %s", uri)
			}
			return nil
		case <-time.After(200 * time.Millisecond):
			return errors.New("no notifications/resources/updated yet")
		}
	}, "the client subscribed to %s hears of its change upstream", readme)
}

// A stdio upstream is started by the federation and started again when it dies.
func TestFederationRestartsADeadStdioUpstream(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	base := federatedMesh(t, federation.Upstream{Name: "local", Command: []string{exe}, Env: []string{stdioUpstreamEnv + "=local"}})
	cs := meshSession(t, base, nil)
	waitForTools(t, cs, "delete_docs", "log", "progress", "search_docs", "touch", "wait", "whoami")

	first, err := callText(t.Context(), cs, "whoami", map[string]any{})
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	var pid int
	if _, err := fmt.Sscanf(first, "local pid %d", &pid); err != nil || pid == os.Getpid() {
		t.Fatalf("whoami answered %q; want the pid of a separate process", first)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the upstream: %v", err)
	}
	eventually.NoError(t, 20*time.Second, func() error {
		got, err := callText(t.Context(), cs, "whoami", map[string]any{})
		if err != nil {
			return err
		}
		if got == first {
			return fmt.Errorf("still %q", got)
		}
		return nil
	}, "whoami answers from a restarted upstream process")
}

// providerHealth is the status the mesh's /v1/health reports for provider name.
func providerHealth(base, name string) (string, error) {
	resp, err := http.Get(base + "/v1/health")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Components []struct {
			Kind, Name, Status, Message string
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	for _, c := range body.Components {
		if c.Name == name && strings.Contains(c.Kind, "PROVIDER") {
			return c.Status, nil
		}
	}
	return "", fmt.Errorf("no provider component %s in %+v", name, body.Components)
}

func waitForHealth(t *testing.T, base, name, want string) {
	t.Helper()
	eventually.NoError(t, 20*time.Second, func() error {
		got, err := providerHealth(base, name)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("status %s", got)
		}
		return nil
	}, "the mesh's health reports provider %s %s", name, want)
}

// An HTTP upstream that goes away is reported down by the mesh's health and its calls
// fail; when it is back at its address, the federation reconnects and it serves again.
func TestFederationReportsAnUpstreamDownAndBack(t *testing.T) {
	server := newUpstreamServer("web", nil)
	closeSessionsAtEnd(t, server)
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	serve := func(lis net.Listener) *http.Server {
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(lis) }()
		return srv
	}
	srv := serve(lis)
	t.Cleanup(func() { _ = srv.Close() })
	base := federatedMesh(t, federation.Upstream{Name: "web", URL: "http://" + addr + "/mcp"})
	cs := meshSession(t, base, nil)
	waitForTools(t, cs, "delete_docs", "log", "progress", "search_docs", "touch", "wait", "whoami")
	waitForHealth(t, base, "web", "STATUS_SERVING")

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	waitForHealth(t, base, "web", "STATUS_NOT_SERVING")
	if got, err := callText(t.Context(), cs, "whoami", map[string]any{}); err == nil {
		t.Errorf("whoami answered %q with its upstream down", got)
	}

	lis, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the upstream's port was taken meanwhile: %v", err)
	}
	srv = serve(lis)
	waitForHealth(t, base, "web", "STATUS_SERVING")
	eventually.NoError(t, 10*time.Second, func() error {
		_, err := callText(t.Context(), cs, "whoami", map[string]any{})
		return err
	}, "whoami answers again once its upstream is back")
}

// An upstream behind a bearer token is reached with the token from
// auth.bearer_file; a legacy HTTP+SSE upstream (transport: sse) serves as well.
func TestFederationBearerFileAndLegacySSE(t *testing.T) {
	const token = "s3cret-upstream-token"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	guarded := newUpstreamServer("guarded", nil)
	closeSessionsAtEnd(t, guarded)
	var refused atomic.Int32
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return guarded }, nil)
	guard := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			refused.Add(1)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		streamable.ServeHTTP(w, r)
	}))
	t.Cleanup(guard.Close)

	old := newUpstreamServer("old", nil)
	closeSessionsAtEnd(t, old)
	legacy := httptest.NewServer(mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return old }, nil))
	t.Cleanup(legacy.Close)

	base := federatedMesh(t,
		federation.Upstream{Name: "guarded", URL: guard.URL, Prefix: "g", Auth: federation.Auth{BearerFile: tokenFile}, Tools: federation.Filter{Include: []string{"whoami"}}},
		federation.Upstream{Name: "old", URL: legacy.URL, Transport: federation.TransportSSE, Prefix: "o", Tools: federation.Filter{Include: []string{"whoami"}}},
	)
	cs := meshSession(t, base, nil)
	waitForTools(t, cs, "g__whoami", "o__whoami")
	for name, want := range map[string]string{"g__whoami": "guarded pid", "o__whoami": "old pid"} {
		if got, err := callText(t.Context(), cs, name, map[string]any{}); err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, %v; want %q...", name, got, err, want)
		}
	}
	if n := refused.Load(); n != 0 {
		t.Errorf("the guarded upstream refused %d requests without the token", n)
	}
}
