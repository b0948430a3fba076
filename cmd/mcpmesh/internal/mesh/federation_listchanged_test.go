package mesh

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/federation"
)

// An upstream that adds a tool it already has sends tools/list_changed although its
// listing is the same (the Go SDK's server does; so does the conformance suite's
// server-stateless scenario through the mesh). The mesh's clients hear it, in both
// protocol generations (a stateful GET stream, a 2026-07-28 subscriptions/listen
// stream): one tools/list_changed per signal, and nothing of the lists the upstream
// did not name; a prompt re-added likewise reaches them as prompts/list_changed only.
func TestFederationPassesOnListChangedOfAnUnchangedList(t *testing.T) {
	server := newUpstreamServer("solo", nil)
	base := federatedMesh(t, federation.Upstream{Name: "solo", URL: serveUpstream(t, server), Prefix: "s"})
	extra := func() {
		mcp.AddTool(server, &mcp.Tool{Name: "extra", Description: "Added at run time."},
			func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "extra"}}}, nil, nil
			})
	}
	greet := func() {
		server.AddPrompt(&mcp.Prompt{Name: "greet", Description: "Greets someone.", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				return &mcp.GetPromptResult{}, nil
			})
	}

	type client struct {
		session                   *mcp.ClientSession
		tools, prompts, resources chan struct{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var clients []*client
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		c := &client{tools: make(chan struct{}, 8), prompts: make(chan struct{}, 8), resources: make(chan struct{}, 8)}
		sdk := mcp.NewClient(&mcp.Implementation{Name: "list-changed-" + version, Version: "1"}, &mcp.ClientOptions{
			ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { c.tools <- struct{}{} },
			PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { c.prompts <- struct{}{} },
			ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { c.resources <- struct{}{} },
		})
		cs, err := sdk.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatalf("connect at %s: %v", version, err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		c.session = cs
		clients = append(clients, c)
	}
	wait := func(i int, ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("client %d: no %s/list_changed", i, what)
		}
	}
	listing := func() string {
		t.Helper()
		var tools []*mcp.Tool
		for tool, err := range clients[0].session.Tools(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			tools = append(tools, tool)
		}
		raw, err := json.Marshal(tools)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	waitForTools(t, clients[0].session, "s__delete_docs", "s__log", "s__progress", "s__search_docs", "s__touch", "s__wait", "s__whoami")

	// A real change first: each client's stream is open once it hears of it, and
	// whatever the registration announced is behind.
	extra()
	for i, c := range clients {
		wait(i, c.tools, "tools")
	}
	waitForTools(t, clients[0].session, "s__delete_docs", "s__extra", "s__log", "s__progress", "s__search_docs", "s__touch", "s__wait", "s__whoami")
	for _, c := range clients {
		for len(c.tools)+len(c.prompts)+len(c.resources) > 0 {
			select {
			case <-c.tools:
			case <-c.prompts:
			case <-c.resources:
			}
		}
	}
	before := listing()

	// The same tool again: the listing does not change, the clients hear of it.
	extra()
	for i, c := range clients {
		wait(i, c.tools, "tools")
	}
	if after := listing(); after != before {
		t.Fatalf("the listing changed, so this tests nothing:\nbefore %s\nafter  %s", before, after)
	}
	// The same prompt again: prompts/list_changed. Each client's notifications come in
	// the order of the upstream's signals, so a second tools/list_changed of the first
	// signal, or one of this signal, would have arrived by the time this one does.
	greet()
	for i, c := range clients {
		wait(i, c.prompts, "prompts")
		if n, m, r := len(c.tools), len(c.prompts), len(c.resources); n+m+r != 0 {
			t.Errorf("client %d: %d more tools, %d more prompts, %d resources list_changed; want one of each signal's list only", i, n, m, r)
		}
	}
}
