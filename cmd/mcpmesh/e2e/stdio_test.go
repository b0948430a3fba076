package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// TestStdioBridge drives `mcpmesh stdio` with the official Go SDK's command transport,
// as a client that only launches local stdio servers would: the bridge process talks
// to a real mesh through a recording proxy, which shows the session and its deletion.
func TestStdioBridge(t *testing.T) {
	m := startAll(t)
	for _, version := range []string{"2025-11-25", "2025-03-26", ""} {
		t.Run("version="+version, func(t *testing.T) { runStdioScenario(t, m.base, version) })
	}
}

// sessionProxy forwards to the mesh and records session ids handed out and deleted.
type sessionProxy struct {
	*httptest.Server
	mu      sync.Mutex
	opened  []string
	deleted []string
}

func newSessionProxy(t *testing.T, base string) *sessionProxy {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &sessionProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	// Its own connection pool: httptest servers closed by other subtests close the idle
	// connections of http.DefaultTransport.
	rp.Transport = http.DefaultTransport.(*http.Transport).Clone()
	rp.ModifyResponse = func(resp *http.Response) error {
		if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
			p.mu.Lock()
			p.opened = append(p.opened, id)
			p.mu.Unlock()
		}
		return nil
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			p.mu.Lock()
			p.deleted = append(p.deleted, r.Header.Get("Mcp-Session-Id"))
			p.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func runStdioScenario(t *testing.T, base, version string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	proxy := newSessionProxy(t, base)

	var mu sync.Mutex
	var progress []*mcp.ProgressNotificationParams
	updated := make(chan string, 16)
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, req.Params)
		},
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Model: "stdio-e2e", Content: &mcp.TextContent{Text: "sampled through stdio"}}, nil
		},
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			select {
			case updated <- req.Params.URI:
			default:
			}
		},
	})
	cmd := exec.Command(binary, "stdio", "-url", proxy.URL+"/mcp", "-log.level=debug")
	var stderr strings.Builder
	var stderrMu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		stderrMu.Lock()
		defer stderrMu.Unlock()
		return stderr.Write(p)
	})
	defer func() {
		if t.Failed() {
			stderrMu.Lock()
			t.Logf("---- bridge stderr ----\n%s", stderr.String())
			stderrMu.Unlock()
		}
	}()
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect through the bridge at %q: %v", version, err)
	}
	wantVersion := version
	if wantVersion == "" {
		wantVersion = stateless
	}
	if got := session.InitializeResult().ProtocolVersion; got != wantVersion {
		t.Errorf("negotiated %q, want %q", got, wantVersion)
	}

	if wantVersion != stateless {
		if err := session.Ping(ctx, nil); err != nil {
			t.Errorf("ping: %v", err)
		}
	}
	var names []string
	for tool, err := range session.Tools(ctx, nil) {
		if err != nil {
			t.Fatalf("list tools: %v", err)
		}
		names = append(names, tool.Name)
	}
	if !slices.Contains(names, "echo") || !slices.Contains(names, "slow") {
		t.Fatalf("tools/list through the bridge lacks echo or slow: %v", names)
	}
	// Non-ASCII arguments; for 2026-07-28 the bridge also sets Mcp-Name, which the mesh checks.
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "héllo stdio"}})
	if err != nil || res.IsError || len(res.Content) == 0 || !strings.Contains(text(res.Content[0]), "héllo stdio") {
		t.Errorf("echo: %+v, %v", res, err)
	}
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"duration_ms": 150, "steps": 3}, Meta: mcp.Meta{"progressToken": "stdio-1"}})
	if err != nil || res.IsError {
		t.Errorf("slow: %+v, %v", res, err)
	}
	// The SDK hands notifications to the handler on its own goroutine: the last may
	// still be on its way when the call returns.
	// The checks below describe a shortfall better than a timeout would.
	eventually.Within(5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(progress) >= 3
	})
	mu.Lock()
	var last float64
	for _, p := range progress {
		if p.ProgressToken != "stdio-1" || p.Progress <= last {
			t.Errorf("progress out of order or for another token: %+v", p)
		}
		last = p.Progress
	}
	if len(progress) != 3 {
		t.Errorf("slow with 3 steps: %d progress notifications, want 3", len(progress))
	}
	mu.Unlock()
	read, err := session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-text"})
	if err != nil || len(read.Contents) != 1 || read.Contents[0].Text == "" {
		t.Errorf("resources/read: %+v, %v", read, err)
	}
	prompt, err := session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "simple"})
	if err != nil || len(prompt.Messages) == 0 {
		t.Errorf("prompts/get: %+v, %v", prompt, err)
	}
	// A server-to-client request (sampling) and the client's answer, both through the
	// bridge.
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"prompt": "hi"}})
	if err != nil || res.IsError || len(res.Content) == 0 || !strings.Contains(text(res.Content[0]), "sampled through stdio") {
		t.Errorf("sample: %+v, %v", res, err)
	}
	// A subscription: the update comes back through the bridge (its GET stream, or the
	// subscriptions/listen request of the stateless generation).
	if err := session.Subscribe(ctx, &mcp.SubscribeParams{URI: watchedURI}); err != nil {
		t.Fatalf("subscribe through the bridge: %v", err)
	}
	waitFor(t, ctx, func() {
		if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "touch-resource", Arguments: map[string]any{}}); err != nil {
			t.Fatalf("touch-resource: %v", err)
		}
	}, func() bool {
		select {
		case uri := <-updated:
			return uri == watchedURI
		default:
			return false
		}
	})
	if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "no-such-tool", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "no-such-tool") {
		t.Errorf("unknown tool: err = %v, want the mesh's JSON-RPC error naming the tool", err)
	}

	// Closing the client closes the bridge's stdin: the bridge deletes the session and exits 0.
	if err := session.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("bridge exit: %v, want 0", cmd.ProcessState)
	}
	proxy.mu.Lock()
	opened, deleted := slices.Clone(proxy.opened), slices.Clone(proxy.deleted)
	proxy.mu.Unlock()
	if wantVersion == stateless {
		if len(opened) != 0 || len(deleted) != 0 {
			t.Errorf("stateless client: sessions opened %v, deleted %v, want none", opened, deleted)
		}
		return
	}
	if len(opened) != 1 || !slices.Equal(deleted, opened) {
		t.Fatalf("sessions opened %v, deleted %v: want the one session deleted", opened, deleted)
	}
	s := rawSession{base: base, id: opened[0], version: wantVersion, client: http.DefaultClient}
	resp := s.post(t, `{"jsonrpc":"2.0","id":99,"method":"tools/list"}`, nil)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the session after the bridge exited: HTTP %d, want 404", resp.StatusCode)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
