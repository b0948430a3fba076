package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/tools/mcptest"
)

// everythingTools are the tools the scenario calls; the provider may offer more.
var everythingTools = []string{"echo", "add", "slow", "get-image", "get-audio", "get-resource", "fail"}

// runSDKScenario drives the mesh with the official Go SDK client at protocol version
// (empty = the SDK's latest, which is the stateless generation): list every tool, call
// each everything tool, receive progress, and end the session.
func runSDKScenario(t *testing.T, base, version string, rec *mcptest.Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var progress []*mcp.ProgressNotificationParams
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpmesh-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, req.Params)
		},
	})
	transport := &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: rec.Client(), MaxRetries: -1}
	session, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect at %q: %v", version, err)
	}
	defer session.Close()
	got := session.InitializeResult().ProtocolVersion
	wantVersion := version
	if wantVersion == "" {
		wantVersion = stateless
	}
	if got != wantVersion {
		t.Errorf("negotiated %q, want %q", got, wantVersion)
	}

	// 2026-07-28 removed ping; the stateful generation has it.
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
		if tool.InputSchema == nil {
			t.Errorf("tool %s has no inputSchema", tool.Name)
		}
	}
	for _, want := range everythingTools {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %q (got %v)", want, names)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("tools/list order is not stable by name: %v", names)
	}

	call := func(name string, args any, meta mcp.Meta) *mcp.CallToolResult {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args, Meta: meta})
		if err != nil {
			t.Fatalf("call %s: %v", name, err)
		}
		return res
	}

	if res := call("echo", map[string]any{"message": "hello mesh"}, nil); res.IsError || len(res.Content) != 1 || !strings.Contains(text(res.Content[0]), "hello mesh") {
		t.Errorf("echo: %+v", res)
	}

	res := call("add", map[string]any{"a": 2, "b": 40}, nil)
	if wantVersion >= "2025-06-18" {
		var sum struct{ Sum float64 }
		if b, err := json.Marshal(res.StructuredContent); err != nil || json.Unmarshal(b, &sum) != nil || sum.Sum != 42 {
			t.Errorf("add: structured content %v, want sum 42", res.StructuredContent)
		}
	} else if res.StructuredContent != nil {
		// Structured content arrived in 2025-06-18; older clients get the text only.
		t.Errorf("add: structured content sent to a %s client", wantVersion)
	}
	if len(res.Content) == 0 || !strings.Contains(text(res.Content[0]), "42") {
		t.Errorf("add: text content %+v, want the sum", res.Content)
	}

	res = call("slow", map[string]any{"duration_ms": 300, "steps": 3}, mcp.Meta{"progressToken": "p-1"})
	if res.IsError {
		t.Errorf("slow: %+v", res)
	}
	mu.Lock()
	n := len(progress)
	var last float64
	for _, p := range progress {
		if p.ProgressToken != "p-1" || p.Progress <= last {
			t.Errorf("progress out of order or for another token: %+v", p)
		}
		last = p.Progress
	}
	mu.Unlock()
	if n == 0 {
		t.Error("slow: no progress notifications received")
	}

	res = call("get-image", map[string]any{}, nil)
	if img, ok := first[*mcp.ImageContent](res.Content); !ok || img.MIMEType != "image/png" {
		t.Errorf("get-image: %+v", res.Content)
	} else if _, err := png.Decode(bytes.NewReader(img.Data)); err != nil {
		t.Errorf("get-image: not a PNG: %v", err)
	}

	res = call("get-audio", map[string]any{}, nil)
	if audio, ok := first[*mcp.AudioContent](res.Content); !ok || !strings.HasPrefix(audio.MIMEType, "audio/") || !bytes.HasPrefix(audio.Data, []byte("RIFF")) {
		t.Errorf("get-audio: %+v", res.Content)
	}

	res = call("get-resource", map[string]any{}, nil)
	if r, ok := first[*mcp.EmbeddedResource](res.Content); !ok || r.Resource == nil || r.Resource.URI == "" {
		t.Errorf("get-resource: %+v", res.Content)
	}

	if res := call("fail", map[string]any{}, nil); !res.IsError {
		t.Errorf("fail: want isError, got %+v", res)
	}

	// An unknown tool is a protocol error, not a tool result.
	if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "no-such-tool", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "no-such-tool") {
		t.Errorf("unknown tool: err = %v, want a JSON-RPC error naming the tool", err)
	}
}

func text(c mcp.Content) string {
	if tc, ok := c.(*mcp.TextContent); ok {
		return tc.Text
	}
	return ""
}

func first[T mcp.Content](cs []mcp.Content) (T, bool) {
	for _, c := range cs {
		if v, ok := c.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}
