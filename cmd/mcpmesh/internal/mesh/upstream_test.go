package mesh

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Upstream MCP servers for the federation tests, built on the official Go SDK: the
// same catalogue served over Streamable HTTP (httptest, port 0) or over stdio (this
// test binary started again with stdioUpstreamEnv set).

// stdioUpstreamEnv, when set, makes the test binary an MCP server on stdio named by
// the variable's value.
const stdioUpstreamEnv = "MCPMESH_TEST_STDIO_UPSTREAM"

type noArgs struct{}

type waitArgs struct {
	Ms int `json:"ms" jsonschema:"how long to wait, in milliseconds"`
}

// upstreamHooks let a test see what happened inside an HTTP upstream.
type upstreamHooks struct {
	// waiting receives once the wait tool started; cancelled once its request was
	// cancelled (by the federation, on the mesh call's cancellation).
	waiting, cancelled chan struct{}
}

// newUpstreamServer serves the tools whoami (the server's name and pid), search_docs
// and delete_docs (for filters), progress (two progress notifications), log (one log
// message), wait (until cancelled or ms pass) and touch (the readme changed); the prompt greet; the resource
// upstream://<name>/readme.
func newUpstreamServer(name string, hooks *upstreamHooks) *mcp.Server {
	noop := func(context.Context, *mcp.SubscribeRequest) error { return nil }
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1.2.3"}, &mcp.ServerOptions{
		Instructions:     "the " + name + " upstream",
		SubscribeHandler: noop, UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	})
	text := func(format string, args ...any) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}
	}
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Names the upstream and its process."},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return text("%s pid %d", name, os.Getpid()), nil, nil
		})
	for _, tool := range []string{"search_docs", "delete_docs"} {
		mcp.AddTool(s, &mcp.Tool{Name: tool, Description: tool + " of " + name},
			func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
				return text("%s ran %s", name, tool), nil, nil
			})
	}
	mcp.AddTool(s, &mcp.Tool{Name: "progress", Description: "Reports progress twice."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if token := req.Params.GetProgressToken(); token != nil {
				for i := 1; i <= 2; i++ {
					if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(i), Total: 2, Message: fmt.Sprintf("step %d", i)}); err != nil {
						return nil, nil, err
					}
				}
			}
			return text("done"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "log", Description: "Sends one log message."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if err := req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "warning", Logger: name, Data: "hello from " + name}); err != nil { //nolint:staticcheck // the stateful generation still has logging
				return nil, nil, err
			}
			return text("logged"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "wait", Description: "Waits until cancelled or ms pass."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in waitArgs) (*mcp.CallToolResult, any, error) {
			if hooks != nil {
				hooks.waiting <- struct{}{}
			}
			select {
			case <-ctx.Done():
				if hooks != nil {
					hooks.cancelled <- struct{}{}
				}
				return nil, nil, ctx.Err()
			case <-time.After(time.Duration(in.Ms) * time.Millisecond):
				return text("waited"), nil, nil
			}
		})
	s.AddPrompt(&mcp.Prompt{Name: "greet", Description: "Greets someone.", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Description: "greeting from " + name, Messages: []*mcp.PromptMessage{
				{Role: "user", Content: &mcp.TextContent{Text: "Hello, " + req.Params.Arguments["who"] + ", from " + name}},
			}}, nil
		})
	uri := "upstream://" + name + "/readme"
	mcp.AddTool(s, &mcp.Tool{Name: "touch", Description: "Says the readme changed."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			return text("touched"), nil, s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: uri})
		})
	s.AddResource(&mcp.Resource{URI: uri, Name: "readme", MIMEType: "text/plain"},
		func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: "read me, from " + name}}}, nil
		})
	return s
}

// serveUpstream serves s over Streamable HTTP on a loopback port until the test ends
// and returns its endpoint.
func serveUpstream(t testing.TB, s *mcp.Server) string {
	t.Helper()
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(srv.Close)
	closeSessionsAtEnd(t, s)
	return srv.URL
}

// closeSessionsAtEnd closes s's sessions when the test ends: a session whose client
// lost its connection (the upstream went away under it) is never closed otherwise.
func closeSessionsAtEnd(t testing.TB, s *mcp.Server) {
	t.Cleanup(func() {
		for ss := range s.Sessions() {
			_ = ss.Close()
		}
	})
}

// runStdioUpstream is the stdio upstream: it serves until stdin closes or a signal.
func runStdioUpstream() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := newUpstreamServer(os.Getenv(stdioUpstreamEnv), nil)
	fmt.Fprintln(os.Stderr, "stdio upstream started") // reaches the federation's log
	if err := s.Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "stdio upstream:", err)
		os.Exit(1)
	}
}
