package mesh

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/session"
)

// recordingTransport sends every request with the caller's key and keeps a copy of
// every byte the mesh answers, so that a test can say what never reached the client.
type recordingTransport struct {
	key string
	mu  sync.Mutex
	got bytes.Buffer
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+r.key)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &teeBody{ReadCloser: resp.Body, r: r}
	return resp, nil
}

type teeBody struct {
	io.ReadCloser
	r *recordingTransport
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.r.mu.Lock()
	t.r.got.Write(p[:n])
	t.r.mu.Unlock()
	return n, err
}

func (r *recordingTransport) received() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got.String()
}

// TestListChangedLeaksNothingHidden: list_changed notifications carry no names (the
// client re-lists, through the filtered listing), so a tool and a prompt that the
// policy hides from a principal never reach that principal's client: not in the
// notification, not in the re-listing, not anywhere in the bytes it received, in
// both protocol generations (a stateful GET stream, subscriptions/listen), while a
// principal allowed to see them gets them after the same notification.
func TestListChangedLeaksNothingHidden(t *testing.T) {
	cfg := allInOne(t)
	newKey := apiKeyFiles(t, &cfg)
	viewerKey, adminKey := newKey("viewer"), newKey("admin", "dynamic")
	cfg.Auth.Policy = session.PolicyConfig{Default: "allow", Rules: []session.PolicyRule{
		{Name: "dynamic", Tools: []string{"test_dynamic_*"}, Prompts: []string{"test_dynamic_*"}, RequireScopes: []string{"dynamic"}},
	}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base := startWith(t, cfg)

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			type client struct {
				session        *mcp.ClientSession
				wire           *recordingTransport
				tools, prompts chan struct{}
			}
			connect := func(key string) *client {
				c := &client{wire: &recordingTransport{key: key}, tools: make(chan struct{}, 8), prompts: make(chan struct{}, 8)}
				sdk := mcp.NewClient(&mcp.Implementation{Name: "list-changed-test", Version: "1"}, &mcp.ClientOptions{
					ToolListChangedHandler:   func(context.Context, *mcp.ToolListChangedRequest) { c.tools <- struct{}{} },
					PromptListChangedHandler: func(context.Context, *mcp.PromptListChangedRequest) { c.prompts <- struct{}{} },
				})
				cs, err := sdk.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: &http.Client{Transport: c.wire}, MaxRetries: -1},
					&mcp.ClientSessionOptions{ProtocolVersion: version})
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				t.Cleanup(func() { _ = cs.Close() })
				c.session = cs
				return c
			}
			viewer, admin := connect(viewerKey), connect(adminKey)
			wait := func(who string, ch chan struct{}, what string) {
				t.Helper()
				select {
				case <-ch:
				case <-ctx.Done():
					t.Fatalf("%s: no %s/list_changed", who, what)
				}
			}
			listed := func(c *client) (tools, prompts []string) {
				t.Helper()
				for tool, err := range c.session.Tools(ctx, nil) {
					if err != nil {
						t.Fatal(err)
					}
					tools = append(tools, tool.Name)
				}
				for prompt, err := range c.session.Prompts(ctx, nil) {
					if err != nil {
						t.Fatal(err)
					}
					prompts = append(prompts, prompt.Name)
				}
				return tools, prompts
			}
			// The listen stream (2026-07-28) opens with the session; give the GET
			// stream (2025-11-25) a request to be open by.
			listed(viewer)
			listed(admin)

			// The admin lists the dynamic tool and prompt (or unlists them: each
			// subtest toggles, and the hidden names must stay out either way).
			for _, tool := range []string{"test_trigger_tool_change", "test_trigger_prompt_change"} {
				if res, err := admin.session.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}}); err != nil || res.IsError {
					t.Fatalf("%s: %v %+v", tool, err, res)
				}
			}
			for _, c := range []struct {
				who string
				*client
			}{{"viewer", viewer}, {"admin", admin}} {
				wait(c.who, c.tools, "tools")
				wait(c.who, c.prompts, "prompts")
			}
			viewerTools, viewerPrompts := listed(viewer)
			adminTools, adminPrompts := listed(admin)
			if slices.Contains(viewerTools, "test_dynamic_tool") || slices.Contains(viewerPrompts, "test_dynamic_prompt") {
				t.Errorf("the viewer's re-listing shows a hidden entry: %v %v", viewerTools, viewerPrompts)
			}
			// The admin sees the entries while they are listed (the first subtest adds
			// them, the second removes them).
			if want := version == "2025-11-25"; slices.Contains(adminTools, "test_dynamic_tool") != want || slices.Contains(adminPrompts, "test_dynamic_prompt") != want {
				t.Errorf("the admin's re-listing: %v %v, want the dynamic entries listed = %v", adminTools, adminPrompts, want)
			}
			// (The trigger tools' descriptions name the dynamic entries; their own
			// listings are what must not arrive.)
			if got := viewer.wire.received(); strings.Contains(got, `"name":"test_dynamic_tool"`) || strings.Contains(got, `"name":"test_dynamic_prompt"`) {
				t.Errorf("a hidden name reached the viewer's client:\n%s", got)
			}
			if got := admin.wire.received(); !strings.Contains(got, "list_changed") {
				t.Errorf("the admin's client received no list_changed on the wire")
			}
		})
	}
}
