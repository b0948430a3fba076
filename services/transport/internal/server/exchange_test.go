package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/sessiontest"
)

const (
	none   = transportv1.Framing_FRAMING_NONE
	asJSON = transportv1.Framing_FRAMING_JSON
	asSSE  = transportv1.Framing_FRAMING_EVENT_STREAM
)

// Accept variants.
type accept int

const (
	acceptBoth accept = iota
	acceptJSON
	acceptSSE
)

func statefulMD(sessionID, version string, a accept) *transportv1.RequestMetadata {
	return &transportv1.RequestMetadata{
		SessionId:          sessionID,
		ProtocolVersion:    version,
		AcceptsJson:        a != acceptSSE,
		AcceptsEventStream: a != acceptJSON,
	}
}

func statelessMD(version, method, name string, a accept) *transportv1.RequestMetadata {
	md := statefulMD("", version, a)
	md.McpMethod, md.McpName = method, name
	return md
}

func rpc(id, method, params string) string {
	b := `{"jsonrpc":"2.0"`
	if id != "" {
		b += `,"id":` + id
	}
	b += `,"method":"` + method + `"`
	if params != "" {
		b += `,"params":` + params
	}
	return b + "}"
}

const (
	v26     = mcpversion.V20260728
	v25     = mcpversion.V20251125
	known   = sessiontest.KnownSession
	meta26  = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	params0 = `{` + meta26 + `}`
)

func metaParams(extra string) string { return `{` + extra + `,` + meta26 + `}` }

// want describes one expected message.
type want struct {
	kind string // priming | result | error | notification
	id   string // "" = no id
	code int    // for errors
}

func TestExchange(t *testing.T) {
	h := newHarness(t, harnessOptions{retryMS: 2500})
	tests := []struct {
		name      string
		md        *transportv1.RequestMetadata
		body      string
		status    int32
		framing   transportv1.Framing
		msgs      []want
		eventIDs  bool
		retryMS   int32
		errSubstr string // in the error message of the last message
	}{
		// Decoding.
		{name: "parse error", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"2.0","id":1,`, status: 400, framing: asJSON, msgs: []want{{"error", "", -32700}}},
		{name: "empty body", md: statefulMD(known, v25, acceptBoth), body: ``, status: 400, framing: asJSON, msgs: []want{{"error", "", -32700}}},
		{name: "batch", md: statefulMD(known, v25, acceptBoth), body: `[` + rpc("1", "ping", "") + `]`, status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}, errSubstr: "batches are only supported for protocol version 2025-03-26"},
		{name: "not an object", md: statefulMD(known, v25, acceptBoth), body: `"ping"`, status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}},
		{name: "wrong jsonrpc", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"1.0","id":1,"method":"ping"}`, status: 400, framing: asJSON, msgs: []want{{"error", "1", -32600}}},
		{name: "null id", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"2.0","id":null,"method":"ping"}`, status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}},
		{name: "fractional id", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}},
		{name: "object id", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}},
		{name: "empty method", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"2.0","id":"x","method":""}`, status: 400, framing: asJSON, msgs: []want{{"error", `"x"`, -32600}}},
		{name: "array params", md: statefulMD(known, v25, acceptBoth), body: rpc("3", "tools/call", `[1]`), status: 400, framing: asJSON, msgs: []want{{"error", "3", -32602}}},

		// Stateful.
		{name: "stateful result as JSON", md: statefulMD(known, v25, acceptBoth), body: rpc(`"c1"`, "tools/call", `{"name":"echo"}`), status: 200, framing: asJSON, msgs: []want{{"result", `"c1"`, 0}}},
		{name: "stateful without version header", md: statefulMD(known, "", acceptBoth), body: rpc("1", "tools/list", ""), status: 200, framing: asJSON, msgs: []want{{"result", "1", 0}}},
		{name: "stateful older version", md: statefulMD(known, mcpversion.V20250326, acceptBoth), body: rpc("1", "tools/list", ""), status: 200, framing: asJSON, msgs: []want{{"result", "1", 0}}},
		{name: "stateful missing session id", md: statefulMD("", v25, acceptBoth), body: rpc("5", "tools/list", ""), status: 400, framing: asJSON, msgs: []want{{"error", "5", -32600}}, errSubstr: "Mcp-Session-Id header is required"},
		{name: "stateful unknown session", md: statefulMD("nope", v25, acceptBoth), body: rpc("6", "tools/list", ""), status: 404, framing: asJSON, msgs: []want{{"error", "6", -32600}}, errSubstr: "Session not found"},
		{name: "stateful unsupported version", md: statefulMD(known, "1900-01-01", acceptBoth), body: rpc("7", "tools/list", ""), status: 400, framing: asJSON, msgs: []want{{"error", "7", -32600}}, errSubstr: "2025-11-25"},
		{name: "stateful SSE when notifications come first", md: statefulMD(known, v25, acceptBoth), body: rpc("8", sessiontest.MethodSlow, ""), status: 200, framing: asSSE, msgs: []want{{"priming", "", 0}, {"notification", "", 0}, {"notification", "", 0}, {"result", "8", 0}}, eventIDs: true, retryMS: 2500},
		{name: "stateful JSON-only client drops notifications", md: statefulMD(known, v25, acceptJSON), body: rpc("9", sessiontest.MethodSlow, ""), status: 200, framing: asJSON, msgs: []want{{"result", "9", 0}}},
		{name: "stateful SSE-only client", md: statefulMD(known, v25, acceptSSE), body: rpc("10", "tools/call", `{"name":"x"}`), status: 200, framing: asSSE, msgs: []want{{"priming", "", 0}, {"result", "10", 0}}, eventIDs: true, retryMS: 2500},
		{name: "stateful notification", md: statefulMD(known, v25, acceptBoth), body: rpc("", "notifications/initialized", ""), status: 202, framing: none},
		{name: "stateful notification unknown session", md: statefulMD("nope", v25, acceptBoth), body: rpc("", "notifications/initialized", ""), status: 404, framing: asJSON, msgs: []want{{"error", "", -32600}}},
		{name: "stateful notification without session", md: statefulMD("", v25, acceptBoth), body: rpc("", "notifications/initialized", ""), status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}},
		{name: "stateful client response", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"2.0","id":"srv-1","result":{}}`, status: 202, framing: none},
		{name: "stateful client error response", md: statefulMD(known, v25, acceptBoth), body: `{"jsonrpc":"2.0","id":"srv-1","error":{"code":-1,"message":"no"}}`, status: 202, framing: none},
		{name: "stateful error event", md: statefulMD(known, v25, acceptBoth), body: rpc("11", sessiontest.MethodBadParams, ""), status: 200, framing: asJSON, msgs: []want{{"error", "11", -32602}}},
		{name: "stateful method not found is 200", md: statefulMD(known, v25, acceptBoth), body: rpc("12", "no/such", ""), status: 200, framing: asJSON, msgs: []want{{"error", "12", -32601}}},
		{name: "session unavailable", md: statefulMD(known, v25, acceptBoth), body: rpc("13", sessiontest.MethodUnavailable, ""), status: 503, framing: asJSON, msgs: []want{{"error", "13", -32603}}},
		{name: "session internal error", md: statefulMD(known, v25, acceptBoth), body: rpc("14", sessiontest.MethodInternal, ""), status: 500, framing: asJSON, msgs: []want{{"error", "14", -32603}}},
		{name: "session precondition", md: statefulMD(known, v25, acceptBoth), body: rpc("15", sessiontest.MethodPrecondition, ""), status: 400, framing: asJSON, msgs: []want{{"error", "15", -32600}}, errSubstr: "not initialized"},
		{name: "session fails after notification", md: statefulMD(known, v25, acceptBoth), body: rpc("16", sessiontest.MethodNotifyThenFail, ""), status: 200, framing: asSSE, msgs: []want{{"priming", "", 0}, {"notification", "", 0}, {"error", "16", -32603}}, eventIDs: true, retryMS: 2500},
		{name: "session ends without result", md: statefulMD(known, v25, acceptBoth), body: rpc("17", sessiontest.MethodNoResult, ""), status: 500, framing: asJSON, msgs: []want{{"error", "17", -32603}}},
		{name: "initialize notification", md: statefulMD("", "", acceptBoth), body: rpc("", "initialize", `{"protocolVersion":"2025-11-25"}`), status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}},
		{name: "initialize invalid params", md: statefulMD("", "", acceptBoth), body: rpc("18", "initialize", `{}`), status: 200, framing: asJSON, msgs: []want{{"error", "18", -32602}}},

		// Stateless.
		{name: "stateless result", md: statelessMD(v26, "tools/list", "", acceptBoth), body: rpc("20", "tools/list", params0), status: 200, framing: asJSON, msgs: []want{{"result", "20", 0}}},
		{name: "stateless ignores session header", md: func() *transportv1.RequestMetadata {
			md := statelessMD(v26, "tools/list", "", acceptBoth)
			md.SessionId = "nope"
			return md
		}(), body: rpc("21", "tools/list", params0), status: 200, framing: asJSON, msgs: []want{{"result", "21", 0}}},
		{name: "stateless tools/call plain name", md: statelessMD(v26, "tools/call", "echo", acceptBoth), body: rpc("22", "tools/call", metaParams(`"name":"echo"`)), status: 200, framing: asJSON, msgs: []want{{"result", "22", 0}}},
		{name: "stateless tools/call base64 name", md: statelessMD(v26, "tools/call", "=?base64?w6ljaMO4?=", acceptBoth), body: rpc("23", "tools/call", metaParams(`"name":"échø"`)), status: 200, framing: asJSON, msgs: []want{{"result", "23", 0}}},
		{name: "stateless resources/read uri", md: statelessMD(v26, "resources/read", "file:///a", acceptBoth), body: rpc("24", "resources/read", metaParams(`"uri":"file:///a"`)), status: 200, framing: asJSON, msgs: []want{{"result", "24", 0}}},
		{name: "stateless missing version header", md: statelessMD("", "tools/list", "", acceptBoth), body: rpc("25", "tools/list", params0), status: 400, framing: asJSON, msgs: []want{{"error", "25", -32020}}},
		{name: "stateless mismatched version header", md: statelessMD(v25, "tools/list", "", acceptBoth), body: rpc("26", "tools/list", params0), status: 400, framing: asJSON, msgs: []want{{"error", "26", -32020}}},
		{name: "stateless unsupported version", md: statelessMD("1900-01-01", "tools/list", "", acceptBoth), body: rpc("27", "tools/list", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"1900-01-01","io.modelcontextprotocol/clientCapabilities":{}}}`), status: 400, framing: asJSON, msgs: []want{{"error", "27", -32022}}},
		{name: "unsupported header without meta or session", md: statelessMD("1900-01-01", "tools/list", "", acceptBoth), body: rpc("28", "tools/list", ""), status: 400, framing: asJSON, msgs: []want{{"error", "28", -32022}}},
		{name: "stateless missing Mcp-Method", md: statelessMD(v26, "", "", acceptBoth), body: rpc("29", "tools/list", params0), status: 400, framing: asJSON, msgs: []want{{"error", "29", -32020}}},
		{name: "stateless mismatched Mcp-Method", md: statelessMD(v26, "prompts/list", "", acceptBoth), body: rpc("30", "tools/list", params0), status: 400, framing: asJSON, msgs: []want{{"error", "30", -32020}}},
		{name: "stateless missing Mcp-Name", md: statelessMD(v26, "tools/call", "", acceptBoth), body: rpc("31", "tools/call", metaParams(`"name":"echo"`)), status: 400, framing: asJSON, msgs: []want{{"error", "31", -32020}}},
		{name: "stateless mismatched Mcp-Name", md: statelessMD(v26, "prompts/get", "other", acceptBoth), body: rpc("32", "prompts/get", metaParams(`"name":"echo"`)), status: 400, framing: asJSON, msgs: []want{{"error", "32", -32020}}, errSubstr: "'other'"},
		{name: "stateless missing capabilities", md: statelessMD(v26, "tools/list", "", acceptBoth), body: rpc("33", "tools/list", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`), status: 400, framing: asJSON, msgs: []want{{"error", "33", -32602}}},
		{name: "stateless header without meta", md: statelessMD(v26, "tools/list", "", acceptBoth), body: rpc("34", "tools/list", ""), status: 400, framing: asJSON, msgs: []want{{"error", "34", -32602}}},
		{name: "stateless method not found", md: statelessMD(v26, "no/such", "", acceptBoth), body: rpc("35", "no/such", params0), status: 404, framing: asJSON, msgs: []want{{"error", "35", -32601}}},
		// 2026-07-28 has no initialize: with a modern _meta it is an unknown method (404).
		{name: "stateless initialize", md: statelessMD(v26, "initialize", "", acceptBoth), body: rpc("39", "initialize", params0), status: 404, framing: asJSON, msgs: []want{{"error", "39", -32601}}},
		{name: "stateless error event", md: statelessMD(v26, sessiontest.MethodBadParams, "", acceptBoth), body: rpc("36", sessiontest.MethodBadParams, params0), status: 200, framing: asJSON, msgs: []want{{"error", "36", -32602}}},
		{name: "stateless notification without _meta", md: statelessMD(v26, "", "", acceptBoth), body: rpc("", "notifications/cancelled", `{"requestId":3}`), status: 202, framing: none},
		{name: "stateless notification", md: statelessMD(v26, "", "", acceptBoth), body: rpc("", "notifications/cancelled", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`), status: 202, framing: none},
		{name: "stateless SSE has no event ids", md: statelessMD(v26, sessiontest.MethodSlow, "", acceptBoth), body: rpc("37", sessiontest.MethodSlow, params0), status: 200, framing: asSSE, msgs: []want{{"notification", "", 0}, {"notification", "", 0}, {"result", "37", 0}}},
		{name: "stateless JSON-only drops notifications", md: statelessMD(v26, sessiontest.MethodSlow, "", acceptJSON), body: rpc("38", sessiontest.MethodSlow, params0), status: 200, framing: asJSON, msgs: []want{{"result", "38", 0}}},
		{name: "stateless client response", md: statelessMD(v26, "", "", acceptBoth), body: `{"jsonrpc":"2.0","id":1,"result":{}}`, status: 400, framing: asJSON, msgs: []want{{"error", "", -32600}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.exchange(t, tt.md, tt.body)
			if a.head.GetHttpStatus() != tt.status || a.head.GetFraming() != tt.framing {
				t.Fatalf("head = %d %v, want %d %v (messages %q)", a.head.GetHttpStatus(), a.head.GetFraming(), tt.status, tt.framing, a.msgs)
			}
			if a.head.GetRetryMs() != tt.retryMS {
				t.Fatalf("retry_ms = %d, want %d", a.head.GetRetryMs(), tt.retryMS)
			}
			if a.head.GetSessionId() != "" {
				t.Fatalf("session id %q on a non-initialize answer", a.head.GetSessionId())
			}
			if len(a.msgs) != len(tt.msgs) {
				t.Fatalf("%d messages, want %d: %q", len(a.msgs), len(tt.msgs), a.msgs)
			}
			checkEventIDs(t, a.msgs, tt.eventIDs)
			for i, w := range tt.msgs {
				if w.kind == "priming" {
					if !isPriming(a.msgs[i]) {
						t.Fatalf("message %d: want a priming event (id, no data): %v", i, a.msgs[i])
					}
					continue
				}
				if isPriming(a.msgs[i]) {
					t.Fatalf("message %d: unexpected priming event", i)
				}
				m := decodeMessage(t, a.msgs[i].GetData(), w.id)
				switch w.kind {
				case "result":
					if m.Result == nil {
						t.Fatalf("message %d: want a result: %s", i, a.msgs[i].GetData())
					}
				case "notification":
					if m.Method != "notifications/progress" || string(m.Params) != sessiontest.ProgressParams {
						t.Fatalf("message %d: want the progress notification: %s", i, a.msgs[i].GetData())
					}
				case "error":
					if m.Error == nil || m.Error.Code != w.code {
						t.Fatalf("message %d: want error %d: %s", i, w.code, a.msgs[i].GetData())
					}
					if m.Error.Code == -32022 || (m.Error.Code == -32600 && strings.Contains(m.Error.Message, "Unsupported protocol version")) {
						checkVersionData(t, m.Error.Data)
					}
				}
			}
			if tt.errSubstr != "" {
				if last := a.msgs[len(a.msgs)-1].GetData(); !strings.Contains(string(last), tt.errSubstr) {
					t.Fatalf("error %s does not mention %q", last, tt.errSubstr)
				}
			}
		})
	}
}

// checkEventIDs: stateful SSE events have distinct "<stream>_<seq>" ids of one stream;
// other messages have none.
func checkEventIDs(t *testing.T, msgs []*transportv1.Message, want bool) {
	t.Helper()
	seen := map[string]bool{}
	stream := ""
	for _, m := range msgs {
		id := m.GetEventId()
		if !want {
			if id != "" {
				t.Fatalf("unexpected event id %q", id)
			}
			continue
		}
		prefix, _, ok := strings.Cut(id, "_")
		if !ok || prefix == "" || seen[id] {
			t.Fatalf("bad or repeated event id %q", id)
		}
		if stream != "" && prefix != stream {
			t.Fatalf("event ids from two streams: %q, %q", stream, prefix)
		}
		stream = prefix
		seen[id] = true
	}
}

func checkVersionData(t *testing.T, raw json.RawMessage) {
	t.Helper()
	var data struct {
		Supported []string `json:"supported"`
		Requested string   `json:"requested"`
	}
	if err := json.Unmarshal(raw, &data); err != nil || len(data.Supported) != len(mcpversion.All) || data.Requested == "" {
		t.Fatalf("version error data = %s (%v), want {supported: %v, requested}", raw, err, mcpversion.All)
	}
}

// TestStatelessParamHeaders: the Mcp-Param-* headers of a 2026-07-28 request reach the
// session, which alone knows which arguments the tool mirrors into them.
func TestStatelessParamHeaders(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	md := statelessMD(v26, "tools/call", "echo", acceptBoth)
	md.ParamHeaders = map[string]string{"region": "=?base64?SGVsbG8=?="}
	a := h.exchange(t, md, rpc("1", "tools/call", metaParams(`"name":"echo","arguments":{"region":"Hello"}`)))
	if a.head.GetHttpStatus() != 200 {
		t.Fatalf("status %d: %q", a.head.GetHttpStatus(), a.msgs)
	}
	if got := h.session.ParamHeaders(); len(got) != 1 || got["region"] != "=?base64?SGVsbG8=?=" {
		t.Fatalf("session got param headers %v", got)
	}
}
