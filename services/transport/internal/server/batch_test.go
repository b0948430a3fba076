package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/sessiontest"
)

const (
	v0326   = mcpversion.V20250326
	known03 = sessiontest.KnownSession20250326
)

func batchOf(elems ...string) string { return "[" + strings.Join(elems, ",") + "]" }

// TestExchangeBatch: JSON-RPC batches on 2025-03-26 sessions are answered as one JSON
// array in request order; everywhere else a batch is -32600 as a whole.
func TestExchangeBatch(t *testing.T) {
	h := newHarness(t, harnessOptions{retryMS: 2500})
	clientResponse := `{"jsonrpc":"2.0","id":"srv-1","result":{}}`
	tests := []struct {
		name   string
		md     *transportv1.RequestMetadata
		body   string
		status int32
		// array: the responses expected in the JSON array, in order (status 200).
		array []want
		// whole: the one error answering the batch as a whole (status 4xx), with
		// errSubstr in its message.
		whole     int
		errSubstr string
		sse       bool // the array comes as an event stream: priming event, then the array
	}{
		{name: "requests and a notification", md: statefulMD(known03, v0326, acceptBoth),
			body:   batchOf(rpc("1", "tools/call", `{"name":"echo"}`), rpc("", "notifications/initialized", ""), rpc(`"b"`, "tools/list", "")),
			status: 200, array: []want{{"result", "1", 0}, {"result", `"b"`, 0}}},
		{name: "without a version header", md: statefulMD(known03, "", acceptBoth),
			body:   batchOf(rpc("1", "tools/list", "")),
			status: 200, array: []want{{"result", "1", 0}}},
		{name: "SSE-only client gets the array as one event", md: statefulMD(known03, v0326, acceptSSE),
			body:   batchOf(rpc("1", "tools/list", ""), rpc("2", "tools/list", "")),
			status: 200, array: []want{{"result", "1", 0}, {"result", "2", 0}}, sse: true},
		{name: "responses in request order, errors in place", md: statefulMD(known03, v0326, acceptBoth),
			body: batchOf(
				rpc("1", sessiontest.MethodSlow, ""),
				rpc("2", sessiontest.MethodBadParams, ""),
				rpc("3", "no/such", ""),
				clientResponse,
				rpc("4", sessiontest.MethodInternal, ""),
				`{"jsonrpc":"1.0","id":5,"method":"ping"}`,
				`1`,
				batchOf(rpc("6", "ping", "")),
				rpc("7", "tools/call", `[1]`),
				rpc("8", sessiontest.MethodNoResult, ""),
			),
			status: 200, array: []want{
				{"result", "1", 0}, {"error", "2", -32602}, {"error", "3", -32601}, {"error", "4", -32603},
				{"error", "5", -32600}, {"error", "", -32600}, {"error", "", -32600}, {"error", "7", -32602},
				{"error", "8", -32603},
			}},
		{name: "only notifications", md: statefulMD(known03, v0326, acceptBoth),
			body:   batchOf(rpc("", "notifications/initialized", ""), rpc("", "notifications/cancelled", `{"requestId":1}`)),
			status: 202},
		{name: "only a client response", md: statefulMD(known03, v0326, acceptBoth),
			body: batchOf(clientResponse), status: 202},
		{name: "empty batch", md: statefulMD(known03, v0326, acceptBoth),
			body: ` [ ] `, status: 400, whole: -32600, errSubstr: "empty batch"},
		{name: "malformed batch", md: statefulMD(known03, v0326, acceptBoth),
			body: `[` + rpc("1", "tools/list", ""), status: 400, whole: -32700},
		{name: "2025-11-25 header", md: statefulMD(known, v25, acceptBoth),
			body: batchOf(rpc("1", "tools/list", "")), status: 400, whole: -32600, errSubstr: "only supported for protocol version 2025-03-26"},
		{name: "2025-06-18 header on a 2025-03-26 session", md: statefulMD(known03, mcpversion.V20250618, acceptBoth),
			body: batchOf(rpc("1", "tools/list", "")), status: 400, whole: -32600, errSubstr: "only supported for protocol version 2025-03-26"},
		{name: "2025-11-25 session without header", md: statefulMD(known, "", acceptBoth),
			body: batchOf(rpc("1", "tools/list", "")), status: 400, whole: -32600, errSubstr: "this session uses 2025-11-25"},
		{name: "2025-03-26 header on a 2025-11-25 session", md: statefulMD(known, v0326, acceptBoth),
			body: batchOf(rpc("1", "tools/list", "")), status: 400, whole: -32600, errSubstr: "this session uses 2025-11-25"},
		{name: "stateless", md: statelessMD(v26, "tools/list", "", acceptBoth),
			body: batchOf(rpc("1", "tools/list", params0)), status: 400, whole: -32600, errSubstr: "only supported for protocol version 2025-03-26"},
		{name: "initialize in a batch", md: statefulMD("", "", acceptBoth),
			body: batchOf(initBody), status: 400, whole: -32600, errSubstr: "initialize must not be part of a JSON-RPC batch"},
		{name: "initialize in a session's batch", md: statefulMD(known03, v0326, acceptBoth),
			body: batchOf(rpc("1", "tools/list", ""), initBody), status: 400, whole: -32600, errSubstr: "initialize"},
		{name: "no session", md: statefulMD("", v0326, acceptBoth),
			body: batchOf(rpc("1", "tools/list", "")), status: 400, whole: -32600, errSubstr: "Mcp-Session-Id"},
		{name: "unknown session", md: statefulMD("nope", v0326, acceptBoth),
			body: batchOf(rpc("1", "tools/list", "")), status: 404, whole: -32600, errSubstr: "Session not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.exchange(t, tt.md, tt.body)
			if a.head.GetHttpStatus() != tt.status {
				t.Fatalf("status %d, want %d (messages %q)", a.head.GetHttpStatus(), tt.status, a.msgs)
			}
			switch {
			case tt.status == 202:
				if a.head.GetFraming() != none {
					t.Fatalf("framing %v, want none", a.head.GetFraming())
				}
			case tt.whole != 0:
				m := decodeMessage(t, a.msgs[0].GetData(), "")
				if m.Error == nil || m.Error.Code != tt.whole || !strings.Contains(m.Error.Message, tt.errSubstr) {
					t.Fatalf("answer %s, want error %d mentioning %q", a.msgs[0].GetData(), tt.whole, tt.errSubstr)
				}
			default:
				body := a.msgs[0]
				if tt.sse {
					if a.head.GetFraming() != asSSE || a.head.GetRetryMs() != 2500 || len(a.msgs) != 2 || !isPriming(a.msgs[0]) || a.msgs[1].GetEventId() == "" {
						t.Fatalf("head %v, messages %q: want an event stream of a priming event and the array", a.head, a.msgs)
					}
					body = a.msgs[1]
				} else if a.head.GetFraming() != asJSON {
					t.Fatalf("framing %v, want JSON", a.head.GetFraming())
				}
				var elems []json.RawMessage
				if err := json.Unmarshal(body.GetData(), &elems); err != nil {
					t.Fatalf("answer %s is not a JSON array: %v", body.GetData(), err)
				}
				if len(elems) != len(tt.array) {
					t.Fatalf("%d responses, want %d: %s", len(elems), len(tt.array), body.GetData())
				}
				for i, w := range tt.array {
					m := decodeMessage(t, elems[i], w.id)
					if w.kind == "result" && m.Result == nil {
						t.Fatalf("response %d: want a result: %s", i, elems[i])
					}
					if w.kind == "error" && (m.Error == nil || m.Error.Code != w.code) {
						t.Fatalf("response %d: want error %d: %s", i, w.code, elems[i])
					}
				}
			}
		})
	}
	// The batched notifications reached the session.
	got := h.session.Notifications()
	for _, n := range []string{"notifications/initialized", "notifications/cancelled"} {
		if !slices.Contains(got, n) {
			t.Errorf("session saw notifications %v, want %s", got, n)
		}
	}
}

// TestBatchAfterInitialize: a client that initialized with 2025-03-26 may batch.
func TestBatchAfterInitialize(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	a := h.exchange(t, statefulMD("", "", acceptBoth), strings.Replace(initBody, v25, v0326, 1))
	sid := a.head.GetSessionId()
	if a.head.GetHttpStatus() != 200 || sid == "" {
		t.Fatalf("initialize = %v %q", a.head, a.msgs)
	}
	a = h.exchange(t, statefulMD(sid, "", acceptBoth), batchOf(rpc("1", "tools/list", ""), rpc("2", "tools/call", `{"name":"x"}`)))
	var elems []rpcMessage
	if err := json.Unmarshal(a.msgs[0].GetData(), &elems); err != nil || a.head.GetHttpStatus() != 200 || len(elems) != 2 {
		t.Fatalf("batch answer %d %s (%v)", a.head.GetHttpStatus(), a.msgs[0].GetData(), err)
	}
	if string(*elems[0].ID) != "1" || string(*elems[1].ID) != "2" {
		t.Fatalf("responses out of order: %s", a.msgs[0].GetData())
	}
}
