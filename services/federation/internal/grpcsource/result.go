package grpcsource

import (
	"encoding/json"
	"errors"
	"io"

	"google.golang.org/grpc"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func textBlocks(text string) []byte {
	b, _ := json.Marshal([]textContent{{Type: "text", Text: text}}) // cannot fail: strings only
	return b
}

// jsonResult carries a JSON response as text and, when it is an object, as
// structuredContent too (MCP asks for the text copy for clients without structured
// output).
func jsonResult(body json.RawMessage, structured bool) *mcpv1.ToolResult {
	r := &mcpv1.ToolResult{Content: textBlocks(string(body))}
	if structured {
		r.StructuredContent = body
	}
	return r
}

func errorResult(text string) *mcpv1.ToolResult {
	return &mcpv1.ToolResult{Content: textBlocks(text), IsError: true}
}

func sendResult(stream grpc.ServerStreamingServer[providerv1.CallToolResponse], r *mcpv1.ToolResult) error {
	err := stream.Send(&providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: r}})
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
