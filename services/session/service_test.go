package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestInitializeNegotiation(t *testing.T) {
	h := newHarness(t, true, nil)
	tests := []struct{ requested, want string }{
		{"2025-11-25", "2025-11-25"},
		{"2025-06-18", "2025-06-18"},
		{"2025-03-26", "2025-03-26"},
		{"2024-11-05", "2024-11-05"}, // served for the legacy HTTP+SSE transport
		{"2024-10-07", "2025-11-25"},
		{"2026-07-28", "2025-11-25"},
		{"1900-01-01", "2025-11-25"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.requested, func(t *testing.T) {
			resp, err := h.client.Initialize(t.Context(), &sessionv1.InitializeRequest{
				Params: []byte(`{"protocolVersion":"` + tt.requested + `","capabilities":{"roots":{}},"clientInfo":{"name":"c","version":"1"}}`),
			})
			if err != nil {
				t.Fatal(err)
			}
			var result struct {
				ProtocolVersion string                     `json:"protocolVersion"`
				Capabilities    map[string]json.RawMessage `json:"capabilities"`
				ServerInfo      map[string]string          `json:"serverInfo"`
				Instructions    string                     `json:"instructions"`
			}
			if err := json.Unmarshal(resp.GetResult(), &result); err != nil {
				t.Fatalf("result %s: %v", resp.GetResult(), err)
			}
			if result.ProtocolVersion != tt.want || resp.GetSession().GetProtocolVersion() != tt.want {
				t.Errorf("negotiated %q (session %q), want %q", result.ProtocolVersion, resp.GetSession().GetProtocolVersion(), tt.want)
			}
			for _, c := range []string{"tools", "resources", "prompts", "logging", "completions"} {
				if _, ok := result.Capabilities[c]; !ok {
					t.Errorf("capability %s missing: %s", c, resp.GetResult())
				}
			}
			if result.ServerInfo["name"] != "mcpmesh" || result.ServerInfo["version"] != testVersion {
				t.Errorf("serverInfo = %v", result.ServerInfo)
			}
			if result.Instructions != "Use p for echoes." {
				t.Errorf("instructions = %q", result.Instructions)
			}
			id := resp.GetSession().GetId()
			raw, err := base64.RawURLEncoding.DecodeString(id)
			if err != nil || len(raw) != 16 {
				t.Errorf("session id %q is not 128 bits of base64url", id)
			}
			if seen[id] {
				t.Errorf("session id %q reused", id)
			}
			seen[id] = true
			if string(resp.GetSession().GetClientCapabilities()) != `{"roots":{}}` {
				t.Errorf("client capabilities stored as %s", resp.GetSession().GetClientCapabilities())
			}
		})
	}
}

func TestInitializeInvalidParams(t *testing.T) {
	h := newHarness(t, true, nil)
	tests := []struct{ name, params, mention string }{
		{"no params", ``, "params"},
		{"array", `[]`, "params"},
		{"missing version", `{"capabilities":{},"clientInfo":{"name":"c","version":"1"}}`, "protocolVersion"},
		{"version not string", `{"protocolVersion":20250618,"capabilities":{},"clientInfo":{}}`, "protocolVersion"},
		{"missing capabilities", `{"protocolVersion":"2025-11-25","clientInfo":{}}`, "capabilities"},
		{"clientInfo not object", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":"x"}`, "clientInfo"},
		{"broken JSON", `{"protocolVersion":`, "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.Initialize(t.Context(), &sessionv1.InitializeRequest{Params: []byte(tt.params)})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tt.mention) {
				t.Fatalf("got %v, want InvalidArgument mentioning %s", err, tt.mention)
			}
		})
	}
}

func TestHandleSessionChecks(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-06-18")

	_, err := h.handle(t, &sessionv1.HandleRequest{SessionId: "nope", Method: "ping", RequestId: []byte("1")})
	if status.Code(err) != codes.NotFound || !strings.Contains(status.Convert(err).Message(), "session nope not found") {
		t.Fatalf("unknown session: %v", err)
	}
	// Another stateful version is accepted (the session keeps its own); a stateless
	// version cannot address a stateful session.
	h.mustResult(t, &sessionv1.HandleRequest{SessionId: sess.GetId(), ProtocolVersion: "2025-11-25", Method: "ping", RequestId: []byte("1")})
	_, err = h.handle(t, &sessionv1.HandleRequest{SessionId: sess.GetId(), ProtocolVersion: "2026-07-28", Method: "ping", RequestId: []byte("1")})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("stateless version on a stateful session: %v", err)
	}
	h.mustResult(t, &sessionv1.HandleRequest{SessionId: sess.GetId(), ProtocolVersion: "2025-06-18", Method: "ping", RequestId: []byte("1")})

	if _, err := h.client.DeleteSession(t.Context(), &sessionv1.DeleteSessionRequest{SessionId: sess.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.handle(t, stateful(sess, "ping", "")); status.Code(err) != codes.NotFound {
		t.Fatalf("deleted session: %v", err)
	}
	if _, err := h.client.GetSession(t.Context(), &sessionv1.GetSessionRequest{SessionId: sess.GetId()}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetSession after delete: %v", err)
	}
	if _, err := h.client.DeleteSession(t.Context(), &sessionv1.DeleteSessionRequest{SessionId: sess.GetId()}); status.Code(err) != codes.NotFound {
		t.Fatalf("second delete: %v", err)
	}
	// Without a session the version decides the generation and must be supported.
	if _, err := h.handle(t, &sessionv1.HandleRequest{Method: "ping", RequestId: []byte("1")}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no session, no version: %v", err)
	}
	if _, err := h.handle(t, &sessionv1.HandleRequest{ProtocolVersion: "1900-01-01", Method: "ping", RequestId: []byte("1")}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no session, unknown version: %v", err)
	}
}

func TestPingAndUnknownMethod(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-11-25")
	if ev := h.mustResult(t, stateful(sess, "ping", "")); string(ev.rawResult) != `{}` {
		t.Errorf("stateful ping = %s", ev.rawResult)
	}
	// 2026-07-28 removed ping (TestRemovedMethodsStateless).
	h.mustError(t, stateless("ping", `{`+statelessMeta+`}`), -32601)
	e := h.mustError(t, stateful(sess, "tools/frobnicate", "{}"), -32601)
	if e.GetMessage() != "Method not found: tools/frobnicate" {
		t.Errorf("message %q", e.GetMessage())
	}
	h.mustError(t, stateless("initialize", `{}`), -32601)
}

func TestNotificationsHaveNoEvents(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-11-25")
	for _, m := range []string{"notifications/initialized", "notifications/cancelled", "notifications/whatever"} {
		req := stateful(sess, m, `{"requestId":99}`)
		req.Notification = true
		if _, err := h.handle(t, req); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	got, err := h.client.GetSession(t.Context(), &sessionv1.GetSessionRequest{SessionId: sess.GetId()})
	if err != nil || !got.GetSession().GetInitialized() {
		t.Fatalf("session not marked initialized: %v %v", got, err)
	}
}

// listAll pages through a listing and returns the names (or URIs) in order.
func listAll(t *testing.T, h *harness, req func(cursor string) *sessionv1.HandleRequest, member, key string) []string {
	t.Helper()
	var names []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("pagination does not end")
		}
		ev := h.mustResult(t, req(cursor))
		items, _ := ev.result[member].([]any)
		for _, it := range items {
			names = append(names, it.(map[string]any)[key].(string))
		}
		next, ok := ev.result["nextCursor"].(string)
		if !ok {
			return names
		}
		if len(items) != 3 {
			t.Errorf("page %d has %d items, want the page size 3", page, len(items))
		}
		cursor = next
	}
}

func TestToolsListPagination(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-11-25")
	want := []string{"block", "echo", "filler_0", "filler_1", "filler_2", "filler_3", "filler_4", "flaky", "gone", "input"}

	got := listAll(t, h, func(c string) *sessionv1.HandleRequest {
		params := `{}`
		if c != "" {
			params = `{"cursor":"` + c + `"}`
		}
		return stateful(sess, "tools/list", params)
	}, "tools", "name")
	if !slices.Equal(got, want) {
		t.Errorf("stateful tools = %v, want %v", got, want)
	}

	got = listAll(t, h, func(c string) *sessionv1.HandleRequest {
		r := stateless("tools/list", `{"cursor":"`+c+`",`+statelessMeta+`}`)
		return r
	}, "tools", "name")
	if !slices.Equal(got, want) {
		t.Errorf("stateless tools = %v, want %v", got, want)
	}

	for _, bad := range []string{`{"cursor":"!!!"}`, `{"cursor":42}`} {
		h.mustError(t, stateful(sess, "tools/list", bad), -32602)
	}
}

func TestListsOfOtherKinds(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-11-25")
	tests := []struct {
		method, member, key string
		want                []string
	}{
		{"resources/list", "resources", "uri", []string{"mem://a", "mem://missing-at-provider"}},
		{"resources/templates/list", "resourceTemplates", "uriTemplate", []string{"file:///{path}"}},
		{"prompts/list", "prompts", "name", []string{"greet"}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			got := listAll(t, h, func(c string) *sessionv1.HandleRequest {
				return stateful(sess, tt.method, `{"cursor":"`+c+`"}`)
			}, tt.member, tt.key)
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s = %v, want %v", tt.method, got, tt.want)
			}
			ev := h.mustResult(t, stateless(tt.method, `{`+statelessMeta+`}`))
			if ev.result["resultType"] != "complete" || ev.result["ttlMs"] != float64(60000) || ev.result["cacheScope"] != "public" {
				t.Errorf("stateless %s lacks cache hints: %s", tt.method, ev.rawResult)
			}
		})
	}
}

func TestToolFieldsByVersion(t *testing.T) {
	h := newHarness(t, true, nil)
	tests := []struct {
		version     string
		req         func(string, string) *sessionv1.HandleRequest
		has, hasNot []string
	}{
		{"2025-03-26", nil, []string{"name", "description", "inputSchema", "annotations"}, []string{"title", "outputSchema", "icons", "_meta", "execution"}},
		{"2025-06-18", nil, []string{"title", "outputSchema", "_meta"}, []string{"icons", "execution"}},
		{"2025-11-25", nil, []string{"title", "outputSchema", "_meta", "icons", "execution"}, nil},
		{"2026-07-28", nil, []string{"title", "outputSchema", "_meta", "icons"}, []string{"execution"}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			var req *sessionv1.HandleRequest
			if mcpversion.IsStateless(tt.version) {
				req = stateless("tools/list", `{`+statelessMeta+`}`)
			} else {
				req = stateful(h.initialize(t, tt.version), "tools/list", `{}`)
			}
			ev := h.mustResult(t, req)
			echo := ev.result["tools"].([]any)[1].(map[string]any)
			if echo["name"] != "echo" {
				t.Fatalf("second tool is %v", echo["name"])
			}
			for _, f := range tt.has {
				if _, ok := echo[f]; !ok {
					t.Errorf("%s lacks %s: %v", tt.version, f, echo)
				}
			}
			for _, f := range tt.hasNot {
				if _, ok := echo[f]; ok {
					t.Errorf("%s has %s: %v", tt.version, f, echo)
				}
			}
		})
	}
}

func TestToolsCall(t *testing.T) {
	h := newHarness(t, true, nil)
	tests := []struct {
		name       string
		version    string
		setLevel   string
		params     string
		progress   bool
		logs       []string
		structured bool
	}{
		{name: "no token no level", version: "2025-11-25", params: `{"name":"echo","arguments":{"x":1}}`, structured: true},
		{name: "token", version: "2025-11-25", params: `{"name":"echo","arguments":{"x":1},"_meta":{"progressToken":"tok"}}`, progress: true, structured: true},
		{name: "level warning", version: "2025-11-25", setLevel: "warning", params: `{"name":"echo"}`, logs: []string{"error"}, structured: true},
		{name: "level debug", version: "2025-06-18", setLevel: "debug", params: `{"name":"echo"}`, logs: []string{"debug", "error"}, structured: true},
		{name: "old version drops structuredContent", version: "2025-03-26", params: `{"name":"echo","_meta":{"progressToken":7}}`, progress: true},
		{name: "stateless meta level", version: "2026-07-28", params: `{"name":"echo",` + strings.Replace(statelessMeta, `{}}`, `{},"io.modelcontextprotocol/logLevel":"info","progressToken":"p"}`, 1) + `}`, progress: true, logs: []string{"error"}, structured: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req *sessionv1.HandleRequest
			if mcpversion.IsStateless(tt.version) {
				req = stateless("tools/call", tt.params)
			} else {
				sess := h.initialize(t, tt.version)
				if tt.setLevel != "" {
					h.mustResult(t, stateful(sess, "logging/setLevel", `{"level":"`+tt.setLevel+`"}`))
				}
				req = stateful(sess, "tools/call", tt.params)
			}
			ev := h.mustResult(t, req)
			var progress int
			var logs []string
			for _, n := range ev.notifications {
				var p map[string]any
				if err := json.Unmarshal(n.GetParams(), &p); err != nil {
					t.Fatalf("notification params %s: %v", n.GetParams(), err)
				}
				switch n.GetMethod() {
				case "notifications/progress":
					progress++
					if p["progress"] != float64(1) || p["total"] != float64(2) || p["message"] != "half" || p["progressToken"] == nil {
						t.Errorf("progress = %s", n.GetParams())
					}
				case "notifications/message":
					logs = append(logs, p["level"].(string))
				default:
					t.Errorf("unexpected notification %s", n.GetMethod())
				}
			}
			if (progress == 1) != tt.progress || progress > 1 {
				t.Errorf("progress notifications = %d, want progress %v", progress, tt.progress)
			}
			if !slices.Equal(logs, tt.logs) {
				t.Errorf("log levels sent = %v, want %v", logs, tt.logs)
			}
			content := ev.result["content"].([]any)[0].(map[string]any)
			if content["type"] != "text" {
				t.Errorf("content = %v", content)
			}
			if _, ok := ev.result["structuredContent"]; ok != tt.structured {
				t.Errorf("structuredContent present = %v, want %v: %s", ok, tt.structured, ev.rawResult)
			}
			if _, ok := ev.result["isError"]; ok {
				t.Errorf("isError should be omitted when false: %s", ev.rawResult)
			}
			if got := ev.result["resultType"]; (got == "complete") != mcpversion.IsStateless(tt.version) {
				t.Errorf("resultType = %v for %s", got, tt.version)
			}
		})
	}

	// The provider receives its own tool name and the request context.
	h.provider.mu.Lock()
	last := h.provider.lastCall
	h.provider.mu.Unlock()
	if last.GetName() != "p_echo" || last.GetContext().GetProtocolVersion() != "2026-07-28" || last.GetContext().GetLogLevel() != "info" || !last.GetContext().GetProgressRequested() {
		t.Errorf("provider saw %v", last)
	}
}

func TestToolsCallErrors(t *testing.T) {
	h := newHarness(t, true, func(c *Config) { c.ToolCallTimeout = 5 * time.Second })
	sess := h.initialize(t, "2025-11-25")
	tests := []struct {
		params  string
		code    int32
		message string
	}{
		{`{"name":"nope"}`, -32602, "Unknown tool: nope"},
		{`{"name":"gone"}`, -32602, "Unknown tool: gone"},
		{`{"name":"flaky"}`, -32603, "tool flaky is unavailable: provider down did not answer"},
		{`{"name":"input"}`, -32603, "tool input asked for client input 8 times; giving up"},
		{`{}`, -32602, "params.name is required"},
		{`{"name":"echo","arguments":[1]}`, -32602, "arguments must be a JSON object"},
		{`{"name":5}`, -32602, "params.name must be a string"},
		{`{"name":"echo","_meta":{"progressToken":{}}}`, -32602, "progressToken"},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			e := h.mustError(t, stateful(sess, "tools/call", tt.params), tt.code)
			if !strings.Contains(e.GetMessage(), tt.message) {
				t.Errorf("message %q, want it to contain %q", e.GetMessage(), tt.message)
			}
		})
	}
}

func TestCatalogueNotLoaded(t *testing.T) {
	h := newHarness(t, false, nil)
	if h.svc.Ready() {
		t.Fatal("ready without a snapshot")
	}
	sess := h.initialize(t, "2025-11-25")
	e := h.mustError(t, stateful(sess, "tools/call", `{"name":"echo"}`), -32603)
	if !strings.Contains(e.GetMessage(), "catalogue not loaded yet") {
		t.Errorf("message %q", e.GetMessage())
	}
	ev := h.mustResult(t, stateful(sess, "tools/list", `{}`))
	if string(ev.rawResult) != `{"tools":[]}` {
		t.Errorf("tools/list before the catalogue = %s", ev.rawResult)
	}
}

func TestStatelessDiscover(t *testing.T) {
	h := newHarness(t, true, nil)
	ev := h.mustResult(t, stateless("server/discover", `{`+statelessMeta+`}`))
	versions, _ := json.Marshal(ev.result["supportedVersions"])
	wantVersions, _ := json.Marshal(mcpversion.All)
	if string(versions) != string(wantVersions) {
		t.Errorf("supportedVersions = %s", versions)
	}
	meta := ev.result["_meta"].(map[string]any)["io.modelcontextprotocol/serverInfo"].(map[string]any)
	if meta["name"] != "mcpmesh" || ev.result["resultType"] != "complete" || ev.result["cacheScope"] != "public" ||
		ev.result["ttlMs"] != float64(60000) || ev.result["instructions"] != "Use p for echoes." {
		t.Errorf("discover = %s", ev.rawResult)
	}
	if _, ok := ev.result["capabilities"].(map[string]any)["tasks"]; ok {
		t.Errorf("discover advertises tasks")
	}
	sess := h.initialize(t, "2025-11-25")
	h.mustError(t, stateful(sess, "server/discover", `{}`), -32601)
}

func TestSetLevel(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-11-25")
	for _, bad := range []string{`{"level":"loud"}`, `{}`, `{"level":3}`, `[]`} {
		h.mustError(t, stateful(sess, "logging/setLevel", bad), -32602)
	}
	if ev := h.mustResult(t, stateful(sess, "logging/setLevel", `{"level":"notice"}`)); string(ev.rawResult) != `{}` {
		t.Errorf("setLevel result %s", ev.rawResult)
	}
	got, err := h.client.GetSession(t.Context(), &sessionv1.GetSessionRequest{SessionId: sess.GetId()})
	if err != nil || got.GetSession().GetLogLevel() != "notice" {
		t.Fatalf("log level not stored: %v %v", got, err)
	}
	h.mustError(t, stateless("logging/setLevel", `{"level":"info",`+statelessMeta+`}`), -32601)
}

// TestRemovedMethodsStateless: 2026-07-28 removed initialize, ping, logging/setLevel and
// resources/(un)subscribe; a stateless request for one is -32601 (the transport answers
// it with HTTP 404).
func TestRemovedMethodsStateless(t *testing.T) {
	h := newHarness(t, true, nil)
	for _, method := range []string{"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"} {
		t.Run(method, func(t *testing.T) {
			h.mustError(t, stateless(method, `{`+statelessMeta+`}`), -32601)
		})
	}
}

func TestResourcesPromptsCompletion(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-11-25")

	ev := h.mustResult(t, stateful(sess, "resources/read", `{"uri":"mem://a"}`))
	if !strings.Contains(string(ev.rawResult), "contents of mem://a") {
		t.Errorf("read exact = %s", ev.rawResult)
	}
	ev = h.mustResult(t, stateful(sess, "resources/read", `{"uri":"file:///notes.txt"}`))
	if !strings.Contains(string(ev.rawResult), "contents of file:///notes.txt") {
		t.Errorf("read template = %s", ev.rawResult)
	}
	for _, uri := range []string{"file:///a/b", "mem://b", "mem://missing-at-provider"} {
		e := h.mustError(t, stateful(sess, "resources/read", `{"uri":"`+uri+`"}`), -32002)
		if string(e.GetData()) != `{"uri":"`+uri+`"}` {
			t.Errorf("data = %s", e.GetData())
		}
	}
	h.mustError(t, stateless("resources/read", `{"uri":"mem://b",`+statelessMeta+`}`), -32602)
	ev = h.mustResult(t, stateless("resources/read", `{"uri":"mem://a",`+statelessMeta+`}`))
	if ev.result["ttlMs"] != float64(60000) || ev.result["cacheScope"] != "public" || ev.result["resultType"] != "complete" {
		t.Errorf("stateless read = %s", ev.rawResult)
	}

	ev = h.mustResult(t, stateful(sess, "prompts/get", `{"name":"greet","arguments":{"who":"ann"}}`))
	if ev.result["description"] != "greets" || !strings.Contains(string(ev.rawResult), "hello ann") {
		t.Errorf("prompts/get = %s", ev.rawResult)
	}
	h.mustError(t, stateful(sess, "prompts/get", `{"name":"nope"}`), -32602)
	h.mustError(t, stateful(sess, "prompts/get", `{"name":"greet"}`), -32602)
	h.mustError(t, stateful(sess, "prompts/get", `{"name":"greet","arguments":{"who":1}}`), -32602)

	ev = h.mustResult(t, stateful(sess, "completion/complete", `{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"who","value":"a"}}`))
	completion := ev.result["completion"].(map[string]any)
	values := completion["values"].([]any)
	if values[0] != `{"type":"ref/prompt","name":"p_greet"}` || values[1] != "who=a" || completion["total"] != float64(2) || completion["hasMore"] != false {
		t.Errorf("completion = %s", ev.rawResult)
	}
	h.mustResult(t, stateful(sess, "completion/complete", `{"ref":{"type":"ref/resource","uri":"file:///{path}"},"argument":{"name":"path","value":"n"}}`))
	h.mustError(t, stateful(sess, "completion/complete", `{"ref":{"type":"ref/prompt","name":"nope"},"argument":{"name":"x","value":""}}`), -32602)
	h.mustError(t, stateful(sess, "completion/complete", `{"ref":{"type":"ref/other"},"argument":{"name":"x","value":""}}`), -32602)
}

func TestCancelledNotificationStopsProviderCall(t *testing.T) {
	h := newHarness(t, true, nil)
	sess := h.initialize(t, "2025-11-25")
	done := make(chan error, 1)
	go func() {
		req := stateful(sess, "tools/call", `{"name":"block"}`)
		req.RequestId = []byte(`"call-7"`)
		_, err := h.handle(t, req)
		done <- err
	}()
	select {
	case <-h.provider.blockStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("provider call did not start")
	}
	cancel := stateful(sess, "notifications/cancelled", `{"requestId":"call-7","reason":"user"}`)
	cancel.Notification = true
	if _, err := h.handle(t, cancel); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.provider.blockEnded:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("provider context ended with %v, want Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("provider call was not cancelled")
	}
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Errorf("cancelled Handle ended with %v, want Canceled", err)
	}
}

func TestExpirySweep(t *testing.T) {
	h := newHarness(t, true, func(c *Config) {
		c.SessionIdleTimeout = 50 * time.Millisecond
		c.SweepInterval = 10 * time.Millisecond
	})
	sess := h.initialize(t, "2025-11-25")
	waitFor(t, "the sweeper to remove the idle session", func() bool { return h.svc.backend.Memory.Len() == 0 })
	if _, err := h.handle(t, stateful(sess, "ping", "")); status.Code(err) != codes.NotFound {
		t.Fatalf("expired session: %v", err)
	}
}

func TestToStatus(t *testing.T) {
	s := &Service{logger: newHarnessLogger()}
	tests := []struct {
		err  error
		code codes.Code
		msg  string
	}{
		{nil, codes.OK, ""},
		{public(store.ErrNotFound, "session x not found"), codes.NotFound, "session x not found"},
		{fmt.Errorf("get: %w", store.ErrNotFound), codes.NotFound, "session not found"},
		{public(errVersionMismatch, "v differs"), codes.FailedPrecondition, "v differs"},
		{public(errInvalidRequest, "bad"), codes.InvalidArgument, "bad"},
		{context.Canceled, codes.Canceled, "request cancelled"},
		{fmt.Errorf("call: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "deadline exceeded"},
		{status.Error(codes.Unavailable, "gone"), codes.Unavailable, "gone"},
		{fmt.Errorf("get session x: %w: %w", store.ErrUnavailable, errors.New("dial tcp 10.0.0.7:5432: connection refused")), codes.Unavailable, "session store unavailable, retry"},
		{errors.New("disk on fire at /var/x"), codes.Internal, "internal error"},
	}
	for _, tt := range tests {
		got := s.toStatus(t.Context(), "/m", tt.err)
		st := status.Convert(got)
		if st.Code() != tt.code || !strings.Contains(st.Message(), tt.msg) {
			t.Errorf("toStatus(%v) = %v, want %v %q", tt.err, got, tt.code, tt.msg)
		}
		if strings.Contains(st.Message(), "/var/x") || strings.Contains(st.Message(), "10.0.0.7") {
			t.Errorf("internal detail leaked: %q", st.Message())
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := Config{PageSize: 0, CacheTTL: -1, RequestStateKey: "too short", ReadCacheFence: time.Minute}
	err := bad.Validate()
	for _, key := range []string{"tool_call_timeout", "session_idle_timeout", "sweep_interval", "page_size", "cache_ttl", "request_state_key", "request_state_ttl", "read_cache_fence"} {
		if err == nil || !strings.Contains(err.Error(), "session."+key) {
			t.Errorf("Validate does not name session.%s: %v", key, err)
		}
	}
}
