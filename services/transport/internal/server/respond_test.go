package server_test

import (
	"encoding/json"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/sessiontest"
)

// TestServerRequestsAndAnswers: a server-to-client request goes out on the request's
// SSE stream before its result; the client's answer reaches the session service's
// Respond; answers nobody waits for are accepted and dropped.
func TestServerRequestsAndAnswers(t *testing.T) {
	h := newHarness(t, harnessOptions{})

	a := h.exchange(t, statefulMD(known, v25, acceptBoth), rpc("1", sessiontest.MethodAsk, ""))
	if a.head.GetHttpStatus() != 200 || a.head.GetFraming() != asSSE || len(a.msgs) != 3 {
		t.Fatalf("ask = %v %v; want an SSE stream with priming, request and result", a.head, a.msgs)
	}
	if got := string(a.msgs[1].GetData()); got != sessiontest.AskRequest {
		t.Fatalf("server request = %s, want %s", got, sessiontest.AskRequest)
	}
	decodeMessage(t, a.msgs[2].GetData(), "1")

	a = h.exchange(t, statefulMD(known, v25, acceptJSON), rpc("2", sessiontest.MethodAsk, ""))
	if a.head.GetFraming() != asJSON || len(a.msgs) != 1 {
		t.Fatalf("ask from a JSON-only client = %v %v; want one JSON error", a.head, a.msgs)
	}
	if m := decodeMessage(t, a.msgs[0].GetData(), "2"); m.Error == nil || m.Error.Code != -32603 {
		t.Fatalf("ask from a JSON-only client answered %s; want -32603", a.msgs[0].GetData())
	}

	answers := []struct {
		name   string
		sid    string
		body   string
		status int32
	}{
		{"result", known, `{"jsonrpc":"2.0","id":"q1","result":{"roots":[]}}`, 202},
		{"error", known, `{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"user declined"}}`, 202},
		{"unknown request id", known, `{"jsonrpc":"2.0","id":` + sessiontest.UnknownRequestID + `,"result":{}}`, 202},
		{"error without id", known, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}`, 202},
		{"unknown session", "nope", `{"jsonrpc":"2.0","id":"q1","result":{}}`, 404},
		{"no session", "", `{"jsonrpc":"2.0","id":"q1","result":{}}`, 400},
	}
	for _, tc := range answers {
		t.Run(tc.name, func(t *testing.T) {
			a := h.exchange(t, statefulMD(tc.sid, v25, acceptBoth), tc.body)
			if a.head.GetHttpStatus() != tc.status {
				t.Fatalf("status %d, want %d (%v)", a.head.GetHttpStatus(), tc.status, a.msgs)
			}
		})
	}
	got := h.session.Responses()
	if len(got) != 2 {
		t.Fatalf("session took %d answers, want 2: %v", len(got), got)
	}
	if string(got[0].GetRequestId()) != `"q1"` || !json.Valid(got[0].GetResult()) || string(got[0].GetResult()) != `{"roots":[]}` {
		t.Fatalf("first answer = %v", got[0])
	}
	if string(got[1].GetRequestId()) != "7" || got[1].GetError().GetMessage() != "user declined" || got[1].GetError().GetCode() != -1 {
		t.Fatalf("second answer = %v", got[1])
	}
}
