package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/tools/mcptest"
)

const watchedURI = "test://watched-resource"

// TestServerMessages: real clients of both generations get what the server starts:
// resource updates for their subscriptions, tools/list_changed when a provider joins
// or leaves, and sampling and elicitation round trips in the middle of a tool call
// (server-to-client requests for stateful sessions, input_required for stateless).
func TestServerMessages(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	for _, v := range []string{"2025-11-25", "2025-03-26", ""} {
		t.Run("version="+v, func(t *testing.T) { runServerMessages(t, m.base, []string{m.base}, m.processes["all"].GRPC, v, rec) })
	}
}

// runServerMessages drives one client at version through base; an extra provider
// registers with the registry at registryAddr to change the tool list, and replicas
// (the gateways behind base) are each waited for until they route without it again.
func runServerMessages(t *testing.T, base string, replicas []string, registryAddr, version string, rec *mcptest.Recorder) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	updated := make(chan string, 64)
	listChanged := make(chan struct{}, 64)
	var sampled atomic.Int32
	client := mcp.NewClient(&mcp.Implementation{Name: "server-messages-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			updated <- req.Params.URI
		},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			listChanged <- struct{}{}
		},
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			sampled.Add(1)
			return &mcp.CreateMessageResult{Role: "assistant", Model: "test-model", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
		},
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"username": "ada", "email": "ada@example.com"}}, nil
		},
	})
	// A connection pool of its own: closing an earlier client must not touch this
	// client's long-lived streams.
	pool := http.DefaultTransport.(*http.Transport).Clone()
	defer pool.CloseIdleConnections()
	httpClient := &http.Client{Transport: rec.Transport(pool)}
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: httpClient, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer session.Close()
	caps := session.InitializeResult().Capabilities
	if caps.Resources == nil || !caps.Resources.Subscribe || caps.Tools == nil || !caps.Tools.ListChanged {
		t.Fatalf("capabilities %+v do not offer subscriptions and list_changed", caps)
	}

	callText := func(tool, args string) string {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: json.RawMessage(args)})
		if err != nil {
			t.Fatalf("call %s: %v", tool, err)
		}
		if res.IsError || len(res.Content) == 0 {
			t.Fatalf("call %s: result %+v", tool, res)
		}
		tc, ok := res.Content[0].(*mcp.TextContent)
		if !ok {
			t.Fatalf("call %s: content %+v", tool, res.Content[0])
		}
		return tc.Text
	}

	t.Run("sampling and elicitation", func(t *testing.T) {
		if got := callText("sample", `{"prompt":"2+2?"}`); !strings.Contains(got, "sampled answer") {
			t.Errorf("sample returned %q", got)
		}
		if sampled.Load() == 0 {
			t.Error("the client's sampling handler was never called")
		}
		if got := callText("elicit", `{"message":"who?"}`); !strings.Contains(got, "action=accept") || !strings.Contains(got, "ada") {
			t.Errorf("elicit returned %q", got)
		}
	})

	t.Run("resource subscription", func(t *testing.T) {
		if err := session.Subscribe(ctx, &mcp.SubscribeParams{URI: watchedURI}); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		// The client's stream opens asynchronously: change the resource until an
		// update arrives.
		waitFor(t, ctx, func() { callText("touch-resource", `{}`) }, func() bool {
			select {
			case uri := <-updated:
				if uri != watchedURI {
					t.Fatalf("update for %q, want %q", uri, watchedURI)
				}
				return true
			default:
				return false
			}
		})
		read, err := session.ReadResource(ctx, &mcp.ReadResourceParams{URI: watchedURI})
		if err != nil || len(read.Contents) == 0 || !strings.Contains(read.Contents[0].Text, "revision") {
			t.Fatalf("read after the update = %+v, %v", read, err)
		}
		if err := session.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: watchedURI}); err != nil {
			t.Fatalf("unsubscribe: %v", err)
		}
	})

	t.Run("tools list_changed", func(t *testing.T) {
		// A provider joining and leaving changes the tool list; repeat until the
		// notification arrives (the client's listening stream opens asynchronously).
		n := 0
		waitFor(t, ctx, func() {
			n++
			extra := startWithEnv(t, "extra-provider", []string{"MCPMESH_EVERYTHING_NAME=extra"},
				"-target=provider-everything", "-grpc.listen=127.0.0.1:0", "-peers.registry="+registryAddr)
			waitUntil(t, ctx, func() bool { return toolListed(replicas[0], "extra") })
			if err := extra.Stop(10 * time.Second); err != nil {
				t.Fatalf("stop the extra provider: %v", err)
			}
			// Wait until every replica routes without it again: names are qualified
			// ("everything.sample") while two providers offer the same tools.
			for _, r := range replicas {
				waitUntil(t, ctx, func() bool { return !toolListed(r, "extra") && toolListed(r, "sample") })
			}
		}, func() bool {
			select {
			case <-listChanged:
				return true
			default:
				return false
			}
		})
	})
}

// waitFor runs act until done reports true, checking done often between acts.
func waitFor(t *testing.T, ctx context.Context, act func(), done func() bool) {
	t.Helper()
	for ctx.Err() == nil {
		act()
		for range 20 {
			if done() {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
	t.Fatal("gave up waiting")
}

// waitUntil polls cond until it holds.
func waitUntil(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("gave up waiting")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
