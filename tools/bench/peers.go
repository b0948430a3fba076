package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpgoserver "github.com/mark3labs/mcp-go/server"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// Peer servers: the same echo tool served by other Go MCP servers, each with its
// SDK's defaults (stateful Streamable HTTP), so that every run compares mcpmesh with
// the field as a new user would meet it. The bench starts each as a child
// (`mcpmesh-bench mcp-go`, `mcpmesh-bench go-sdk`), like the ceiling.
const (
	peerMCPGo = "mcp-go" // github.com/mark3labs/mcp-go
	peerGoSDK = "go-sdk" // github.com/modelcontextprotocol/go-sdk
)

// IsPeer reports whether name is a peer server's command.
func IsPeer(name string) bool { return name == peerMCPGo || name == peerGoSDK }

// echoText is what every echo answers for message, as the everything provider does.
func echoText(message string) string { return "Echo: " + message }

// peerHandler is the /mcp handler of a peer server, and what ends its sessions.
func peerHandler(peer string) (http.Handler, func(), error) {
	switch peer {
	case peerMCPGo:
		s := mcpgoserver.NewMCPServer("mcpmesh-bench-mcp-go", "1")
		s.AddTool(mcp.NewTool("echo", mcp.WithDescription("Echoes the message."), mcp.WithString("message", mcp.Required())),
			func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				msg, err := req.RequireString("message")
				if err != nil {
					return mcp.NewToolResultError(err.Error()), nil
				}
				return mcp.NewToolResultText(echoText(msg)), nil
			})
		h := mcpgoserver.NewStreamableHTTPServer(s)
		return h, func() { _ = h.Shutdown(context.Background()) }, nil
	case peerGoSDK:
		s := sdk.NewServer(&sdk.Implementation{Name: "mcpmesh-bench-go-sdk", Version: "1"}, nil)
		type echoArgs struct {
			Message string `json:"message" jsonschema:"the message to echo"`
		}
		sdk.AddTool(s, &sdk.Tool{Name: "echo", Description: "Echoes the message."},
			func(_ context.Context, _ *sdk.CallToolRequest, in echoArgs) (*sdk.CallToolResult, any, error) {
				return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: echoText(in.Message)}}}, nil, nil
			})
		closeSessions := func() {
			for ss := range s.Sessions() {
				_ = ss.Close()
			}
		}
		return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil), closeSessions, nil
	default:
		return nil, nil, fmt.Errorf("unknown peer server %q", peer)
	}
}

// PeerMain runs a peer server (`mcpmesh-bench mcp-go|go-sdk`): it listens on
// 127.0.0.1:0 (or -listen), serves the echo tool at /mcp, prints a banner that
// proc.Start understands, and serves until ctx ends.
func PeerMain(ctx context.Context, peer string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcpmesh-bench "+peer, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %v", peer, fs.Args())
	}
	h, closeSessions, err := peerHandler(peer)
	if err != nil {
		return err
	}
	defer closeSessions()
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("%s: listen: %w", peer, err)
	}
	base := "http://" + lis.Addr().String()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	fmt.Fprintf(stdout, "%s listening on %s\n  MCP endpoint   %s/mcp\n%s.\n", peer, base, base, proc.BannerEnd)
	select {
	case err := <-served:
		return fmt.Errorf("%s: serve: %w", peer, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: serve: %w", peer, err)
	}
	return nil
}
