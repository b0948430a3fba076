package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
	mcpgoserver "github.com/mark3labs/mcp-go/server"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
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
	h, closeSessions, err := peerHandler(peer)
	if err != nil {
		return err
	}
	defer closeSessions()
	return serveChild(ctx, peer, h, args, stdout, stderr)
}
