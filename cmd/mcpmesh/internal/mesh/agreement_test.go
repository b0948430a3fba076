package mesh

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/everything"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/registry"
)

// TestRESTAndMCPAgree runs the bad-input cases of a tool call over REST
// (POST /v1/tools/{name}:call) and over /mcp against one in-process mesh, and checks
// that both surfaces name each problem with the same message, with the HTTP status and
// JSON-RPC code of the table in docs/protocol.md. Both go through the session
// service's dispatcher, so they can only disagree if one of them bypasses it.
func TestRESTAndMCPAgree(t *testing.T) {
	const (
		maxBody     = 64 << 10
		callTimeout = 300 * time.Millisecond
	)
	down := startDownProvider(t)
	cfg := allInOne(t)
	cfg.Gateway.MaxBodyBytes = maxBody
	cfg.Session.ToolCallTimeout = callTimeout
	cfg.Registry.Providers = []registry.StaticProvider{{Name: "down", Address: down.addr}}
	base := startWith(t, cfg)
	// Both providers offer the same tools, so the mesh qualifies every name.
	waitForCall(t, base, "down.echo", `{"message":"up"}`)
	// REST listings and MCP listings are cut on the same path in the session service:
	// the same entries in the same order, whatever the page boundaries.
	t.Run("listings", func(t *testing.T) {
		for _, l := range []struct{ path, method, member, key string }{
			{"/v1/tools", "tools/list", "tools", "name"},
			{"/v1/resources", "resources/list", "resources", "uri"},
			{"/v1/resource-templates", "resources/templates/list", "resourceTemplates", "uriTemplate"},
			{"/v1/prompts", "prompts/list", "prompts", "name"},
		} {
			rest, mcp := listREST(t, base, l.path, l.member, l.key), listMCP(t, base, l.method, l.member, l.key)
			if len(rest) == 0 || strings.Join(rest, " ") != strings.Join(mcp, " ") {
				t.Errorf("GET %s: %v\n%s: %v", l.path, rest, l.method, mcp)
			}
		}
	})
	// Before the down provider stops: it may own the resource (one provider wins a URI).
	t.Run("read a resource and get a prompt", func(t *testing.T) {
		resp, body := post(t, base+"/v1/resources:read", `{"uri":"test://static-text"}`, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"uri":"test://static-text"`) {
			t.Fatalf("REST read: %d %s", resp.StatusCode, body)
		}
		resp, body = post(t, base+"/v1/prompts/everything.greet:get", `{"arguments":{"name":"Ada"}}`, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Ada") {
			t.Fatalf("REST prompt: %d %s", resp.StatusCode, body)
		}
		resp, body = post(t, base+"/v1/resources:read", `{"uri":"test://no-such-resource"}`, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "Resource not found: test://no-such-resource") {
			t.Fatalf("REST read of an unknown resource: %d %s", resp.StatusCode, body)
		}
	})
	down.stop()

	tests := []struct {
		name      string
		tool      string
		arguments string
		// What the REST caller gets; the MCP client gets the JSON-RPC code with
		// HTTP 200, or the same HTTP status when the gateway refuses the request. Code 0
		// is a tool result with isError: from 2025-11-25 on, input validation errors are
		// tool execution errors (SEP-1303), with the message REST gives.
		restStatus int
		rpcCode    int
		mcpStatus  int
		message    string
	}{
		{"unknown tool", "nope", `{}`, http.StatusNotFound, -32602, http.StatusOK,
			"Unknown tool: nope"},
		{"missing argument", "everything.add", `{"a":1}`, http.StatusBadRequest, 0, http.StatusOK,
			"invalid arguments for tool everything.add: (root): missing property 'b' (keyword required)"},
		{"wrong type", "everything.add", `{"a":"one","b":2}`, http.StatusBadRequest, 0, http.StatusOK,
			"invalid arguments for tool everything.add: /a: got string, want number (keyword type)"},
		{"oversized body", "everything.echo", `{"message":"` + strings.Repeat("x", maxBody) + `"}`, http.StatusRequestEntityTooLarge, -32600, http.StatusRequestEntityTooLarge,
			"request body exceeds the limit of 65536 bytes"},
		{"provider down", "down.echo", `{"message":"hi"}`, http.StatusServiceUnavailable, -32603, http.StatusOK,
			"tool down.echo is unavailable: provider down did not answer"},
		{"provider timeout", "everything.slow", `{"duration_ms":5000,"steps":1}`, http.StatusGatewayTimeout, -32603, http.StatusOK,
			"tool everything.slow timed out: provider everything did not answer within 300ms"},
	}
	// Both generations of MCP: a 2026-07-28 request carries everything in _meta, a
	// 2025-11-25 one names its session.
	stateless := map[string]string{"MCP-Protocol-Version": "2026-07-28"}
	stateful := initializeSession(t, base)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			restStatus, restMessage := callREST(t, base, tc.tool, tc.arguments)
			if restStatus != tc.restStatus || restMessage != tc.message {
				t.Errorf("REST: %d %q, want %d %q", restStatus, restMessage, tc.restStatus, tc.message)
			}
			for _, session := range []map[string]string{stateless, stateful} {
				version := session["MCP-Protocol-Version"]
				mcpStatus, code, mcpMessage := callMCP(t, base, session, tc.tool, tc.arguments)
				if mcpStatus != tc.mcpStatus || code != tc.rpcCode || mcpMessage != tc.message {
					t.Errorf("MCP %s: HTTP %d, %d %q, want HTTP %d, %d %q", version, mcpStatus, code, mcpMessage, tc.mcpStatus, tc.rpcCode, tc.message)
				}
				if restMessage != mcpMessage {
					t.Errorf("REST says %q, MCP %s says %q", restMessage, version, mcpMessage)
				}
			}
		})
	}

	t.Run("success", func(t *testing.T) {
		resp, body := post(t, base+"/v1/tools/everything.add:call", `{"arguments":{"a":2,"b":3}}`, nil)
		var result struct {
			StructuredContent map[string]float64 `json:"structuredContent"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &result) != nil || result.StructuredContent["sum"] != 5 {
			t.Fatalf("REST add: %d %s", resp.StatusCode, body)
		}
	})
}

// callREST calls a tool over REST and returns the status and the error message ("" on
// success).
func callREST(t *testing.T, base, tool, arguments string) (int, string) {
	t.Helper()
	resp, body := post(t, base+"/v1/tools/"+tool+":call", `{"arguments":`+arguments+`}`, nil)
	var e struct {
		Message string `json:"message"`
	}
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("REST error body %q: %v", body, err)
		}
	}
	return resp.StatusCode, e.Message
}

// initializeSession opens a 2025-11-25 session and returns the headers of its requests.
func initializeSession(t *testing.T, base string) map[string]string {
	t.Helper()
	resp, raw := post(t, base+"/mcp", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"agreement","version":"1"}}}`,
		map[string]string{"Accept": "application/json, text/event-stream"})
	id := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("initialize: %d %s", resp.StatusCode, raw)
	}
	headers := map[string]string{"Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"}
	resp, raw = post(t, base+"/mcp", `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		map[string]string{"Accept": "application/json, text/event-stream", "Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %s", resp.StatusCode, raw)
	}
	return headers
}

// callMCP calls a tool over /mcp with the session headers (a 2026-07-28 request
// when they name no session) and returns the HTTP status, the JSON-RPC error code and
// message: code 0 with the text of a tool result with isError, or 0, "" on success.
func callMCP(t *testing.T, base string, session map[string]string, tool, arguments string) (int, int, string) {
	t.Helper()
	body, headers := toolCallRequest(session, tool, arguments)
	resp, raw := post(t, base+"/mcp", body, headers)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// The answer is the last data line of the stream.
		for line := range strings.Lines(string(raw)) {
			if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data:"); ok && strings.TrimSpace(data) != "" {
				raw = []byte(data)
			}
		}
	}
	var out struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Result struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("MCP body %q: %v", raw, err)
	}
	if out.Error == nil {
		if out.Result.IsError && len(out.Result.Content) > 0 {
			return resp.StatusCode, 0, out.Result.Content[0].Text
		}
		return resp.StatusCode, 0, ""
	}
	return resp.StatusCode, out.Error.Code, out.Error.Message
}

// toolCallRequest is the body and headers of a tools/call over /mcp: in the session
// the headers name, or a 2026-07-28 request when they name none.
func toolCallRequest(session map[string]string, tool, arguments string) (string, map[string]string) {
	headers := map[string]string{"Accept": "application/json, text/event-stream"}
	for k, v := range session {
		headers[k] = v
	}
	meta := ""
	if session["Mcp-Session-Id"] == "" {
		meta = `,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"agreement","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`
		headers["Mcp-Method"], headers["Mcp-Name"] = "tools/call", tool
	}
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + arguments + meta + `}}`, headers
}

// listREST pages through a REST listing and returns the key of every entry (a
// resource's key is inside its "resource" member, a template's inside
// "resourceTemplate").
func listREST(t *testing.T, base, path, member, key string) []string {
	t.Helper()
	var keys []string
	token := ""
	for range 100 {
		resp, err := http.Get(base + path + "?page_token=" + token)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s %v", path, resp.StatusCode, raw, err)
		}
		var page map[string]json.RawMessage
		var entries []map[string]json.RawMessage
		if json.Unmarshal(raw, &page) != nil || json.Unmarshal(page[member], &entries) != nil {
			t.Fatalf("GET %s: %s", path, raw)
		}
		for _, e := range entries {
			for _, inner := range []string{"resource", "resourceTemplate"} {
				if nested, ok := e[inner]; ok {
					_ = json.Unmarshal(nested, &e)
				}
			}
			var k string
			_ = json.Unmarshal(e[key], &k)
			keys = append(keys, k)
		}
		token = ""
		_ = json.Unmarshal(page["nextPageToken"], &token)
		if token == "" {
			return keys
		}
	}
	t.Fatalf("GET %s does not end", path)
	return nil
}

// listMCP pages through an MCP listing (2026-07-28) and returns the key of every entry.
func listMCP(t *testing.T, base, method, member, key string) []string {
	t.Helper()
	var keys []string
	cursor := ""
	headers := map[string]string{"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
	for range 100 {
		params := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"agreement","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`
		if cursor != "" {
			params += `,"cursor":"` + cursor + `"`
		}
		resp, raw := post(t, base+"/mcp", `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":{`+params+`}}`, headers)
		var out struct {
			Result map[string]json.RawMessage `json:"result"`
		}
		var entries []map[string]json.RawMessage
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || json.Unmarshal(out.Result[member], &entries) != nil {
			t.Fatalf("%s: %d %s", method, resp.StatusCode, raw)
		}
		for _, e := range entries {
			var k string
			_ = json.Unmarshal(e[key], &k)
			keys = append(keys, k)
		}
		cursor = ""
		_ = json.Unmarshal(out.Result["nextCursor"], &cursor)
		if cursor == "" {
			return keys
		}
	}
	t.Fatalf("%s does not end", method)
	return nil
}

func post(t *testing.T, url, body string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// downProvider is a second everything provider on its own loopback gRPC server, to be
// stopped once the mesh knows its tools.
type downProvider struct {
	addr string
	stop func()
}

func startDownProvider(t *testing.T) downProvider {
	t.Helper()
	ecfg := everything.DefaultConfig()
	ecfg.Name = "down"
	p, err := everything.New(ecfg, everything.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	srv := grpcserver.New(grpcserver.Settings{Logger: slog.New(slog.DiscardHandler)})
	p.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Stop(ctx)
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("serve the down provider: %v", err)
		}
	}
	t.Cleanup(stop)
	return downProvider{addr: lis.Addr().String(), stop: stop}
}

// waitForCall waits until a REST call of the tool succeeds: the session service has
// the tool in its catalogue and its provider answers.
func waitForCall(t *testing.T, base, tool, arguments string) {
	t.Helper()
	eventually.NoError(t, 10*time.Second, func() error {
		if status, message := callREST(t, base, tool, arguments); status != http.StatusOK {
			return fmt.Errorf("%d %s", status, message)
		}
		return nil
	}, "tool %s answers over REST", tool)
}
