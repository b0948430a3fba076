package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// TestVirtualServerAcrossProcesses runs the six processes with one configuration file
// that declares a virtual server, so its name crosses real gRPC hops (gateway →
// transport → session, as gRPC metadata): the official Go SDK client on /mcp/math, in
// both generations, sees and calls only its selection, is refused a tool outside it
// as an unknown one, and its stateful session is unknown on /mcp.
func TestVirtualServerAcrossProcesses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mcpmesh.yaml")
	config := "virtual_servers:\n  - name: math\n    tools: [add, echo]\n"
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	withConfig := "-config=" + file
	const anyPort = "-grpc.listen=127.0.0.1:0"
	reg := start(t, "registry", "-target=registry", anyPort)
	start(t, "provider", "-target=provider-everything", anyPort, "-peers.registry="+reg.GRPC)
	sess := start(t, "session", withConfig, "-target=session", anyPort, "-peers.registry="+reg.GRPC)
	tr := start(t, "transport", "-target=transport", anyPort, "-peers.session="+sess.GRPC)
	hl := start(t, "health", "-target=health", anyPort, "-peers.registry="+reg.GRPC,
		"-peers.transport="+tr.GRPC, "-peers.session="+sess.GRPC)
	gw := start(t, "gateway", withConfig, "-target=gateway", "-gateway.listen=127.0.0.1:0",
		"-peers.transport="+tr.GRPC, "-peers.registry="+reg.GRPC, "-peers.session="+sess.GRPC, "-peers.health="+hl.GRPC)
	waitReady(t, gw.HTTP)
	virtualServerScenario(t, gw)
}

func virtualServerScenario(t *testing.T, gw *proc.Process) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run("version="+version, func(t *testing.T) {
			ctx := t.Context()
			client := mcp.NewClient(&mcp.Implementation{Name: "virtual-server-e2e", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: gw.HTTP + "/mcp/math", MaxRetries: -1},
				&mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect to /mcp/math: %v", err)
			}
			defer cs.Close()
			var tools []string
			for tool, err := range cs.Tools(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				tools = append(tools, tool.Name)
			}
			if slices.Sort(tools); !slices.Equal(tools, []string{"add", "echo"}) {
				t.Fatalf("tools %v, want [add echo]", tools)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "through math"}})
			if err != nil || res.IsError || len(res.Content) == 0 || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "through math") {
				t.Fatalf("echo through math: %+v %v", res, err)
			}
			_, outside := cs.CallTool(ctx, &mcp.CallToolParams{Name: "touch-resource", Arguments: map[string]any{}})
			_, missing := cs.CallTool(ctx, &mcp.CallToolParams{Name: "no-such-tool", Arguments: map[string]any{}})
			if outside == nil || missing == nil || strings.ReplaceAll(outside.Error(), "touch-resource", "no-such-tool") != missing.Error() {
				t.Fatalf("touch-resource outside the selection: %v; an unknown tool: %v", outside, missing)
			}
			if version == "" {
				return
			}
			req, _ := http.NewRequest(http.MethodPost, gw.HTTP+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Session-Id", cs.ID())
			req.Header.Set("MCP-Protocol-Version", version)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("the /mcp/math session on /mcp: %d, want 404", resp.StatusCode)
			}
		})
	}
}
