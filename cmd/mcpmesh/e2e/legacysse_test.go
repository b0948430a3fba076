package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestLegacySSETransport: a 2024-11-05 client speaking the old HTTP+SSE transport
// (GET /sse, POST /messages?sessionId=) through the official Go SDK's
// SSEClientTransport: initialize at 2024-11-05, list and call tools, a sampling round
// trip, and a resource subscription whose update arrives on the same stream.
func TestLegacySSETransport(t *testing.T) {
	m := startAll(t)
	runLegacySSE(t, m.base, m.base)
}

// TestLegacySSEAcrossReplicas: the same client, with its GET /sse on one gateway
// replica and every POST /messages sent to the other, each with its own transport and
// session replica over one PostgreSQL database: the answers reach the stream through
// the session service's event store, so the 2024-11-05 transport needs no affinity.
func TestLegacySSEAcrossReplicas(t *testing.T) {
	m := startReplicated(t)
	runLegacySSE(t, m.gateways[0], m.gateways[1])
}

// postsTo sends every POST to another base URL and counts those it redirected.
type postsTo struct {
	base  *url.URL
	next  http.RoundTripper
	posts atomic.Int64
}

func (p *postsTo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.URL.Host != p.base.Host {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = p.base.Scheme, p.base.Host, ""
		p.posts.Add(1)
	}
	return p.next.RoundTrip(r)
}

// runLegacySSE drives a 2024-11-05 client whose stream is on sseBase and whose POSTs
// go to postBase.
func runLegacySSE(t *testing.T, sseBase, postBase string) {
	t.Helper()
	rec := recorder(t)
	target, err := url.Parse(postBase)
	if err != nil {
		t.Fatal(err)
	}
	httpClient := rec.ClientAt("2024-11-05")
	redirect := &postsTo{base: target, next: httpClient.Transport}
	httpClient.Transport = redirect
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	updated := make(chan string, 16)
	client := mcp.NewClient(&mcp.Implementation{Name: "legacy-sse-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) { updated <- req.Params.URI },
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Model: "m", Content: &mcp.TextContent{Text: "legacy answer"}}, nil
		},
	})
	session, err := client.Connect(ctx, &mcp.SSEClientTransport{Endpoint: sseBase + "/sse", HTTPClient: httpClient},
		&mcp.ClientSessionOptions{ProtocolVersion: "2024-11-05"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer session.Close()
	if v := session.InitializeResult().ProtocolVersion; v != "2024-11-05" {
		t.Fatalf("negotiated %q, want 2024-11-05", v)
	}
	tools, err := session.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v %v", tools, err)
	}
	call := func(name, args string) string {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
		if err != nil || res.IsError || len(res.Content) == 0 {
			t.Fatalf("call %s: %+v %v", name, res, err)
		}
		return res.Content[0].(*mcp.TextContent).Text
	}
	if got := call("echo", `{"message":"old client"}`); got != "Echo: old client" {
		t.Errorf("echo answered %q", got)
	}
	if got := call("sample", `{"prompt":"hi"}`); !strings.Contains(got, "legacy answer") {
		t.Errorf("sample answered %q", got)
	}
	if err := session.Subscribe(ctx, &mcp.SubscribeParams{URI: watchedURI}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	waitFor(t, ctx, func() { call("touch-resource", `{}`) }, func() bool {
		select {
		case uri := <-updated:
			return uri == watchedURI
		default:
			return false
		}
	})

	if sseBase != postBase && redirect.posts.Load() < 5 {
		t.Errorf("only %d POSTs went to the other replica", redirect.posts.Load())
	}

	// A message for a connection no replica has open is refused clearly.
	resp := do(t, rec.ClientAt("2024-11-05"), http.MethodPost, postBase+"/messages?sessionId=nope", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, nil)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "open GET /sse again") {
		t.Errorf("unknown sessionId: %d %q", resp.StatusCode, body)
	}
}
