package session

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

// initializeWith creates a session that declared caps.
func (h *harness) initializeWith(t *testing.T, version, caps string) *sessionv1.Session {
	t.Helper()
	resp, err := h.client.Initialize(t.Context(), &sessionv1.InitializeRequest{
		Params: []byte(`{"protocolVersion":"` + version + `","capabilities":` + caps + `,"clientInfo":{"name":"test","version":"1"}}`),
	})
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return resp.GetSession()
}

// TestStatefulClientInput: a provider's input_required reaches a stateful client as
// server-to-client requests on the request's stream; the answers, handed to Respond,
// reach the provider's second call with its state.
func TestStatefulClientInput(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	sess := h.initializeWith(t, "2025-11-25", `{"roots":{},"sampling":{}}`)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	call := stateful(sess, "tools/call", `{"name":"ask","arguments":{"requests":{`+
		`"r":{"method":"roots/list","params":{}},`+
		`"s":{"method":"sampling/createMessage","params":{"messages":[],"maxTokens":5}}}}}`)
	stream, err := h.client.Handle(ctx, call)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	asked := map[string][]byte{} // method -> id
	for len(asked) < 2 {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("waiting for the server requests: %v", err)
		}
		r := ev.GetRequest()
		if r == nil {
			t.Fatalf("event %v before the server requests", ev)
		}
		if !json.Valid(r.GetId()) || !json.Valid(r.GetParams()) {
			t.Fatalf("server request %v is not valid JSON", r)
		}
		asked[r.GetMethod()] = r.GetId()
	}
	if asked["roots/list"] == nil || asked["sampling/createMessage"] == nil {
		t.Fatalf("server requests = %v", asked)
	}

	// An answer to an id nobody waits for is dropped, not an error.
	unknown, err := h.client.Respond(ctx, &sessionv1.RespondRequest{SessionId: sess.GetId(), RequestId: []byte(`"nobody"`),
		Outcome: &sessionv1.RespondRequest_Result{Result: []byte(`{}`)}})
	if err != nil || unknown.GetDelivered() {
		t.Fatalf("answer to an unknown id = %v, %v; want not delivered", unknown, err)
	}
	answers := map[string]string{"roots/list": `{"roots":[]}`, "sampling/createMessage": `{"role":"assistant","content":{"type":"text","text":"hi"},"model":"m"}`}
	for method, result := range answers {
		resp, err := h.client.Respond(ctx, &sessionv1.RespondRequest{SessionId: sess.GetId(), RequestId: asked[method],
			Outcome: &sessionv1.RespondRequest_Result{Result: []byte(result)}})
		if err != nil || !resp.GetDelivered() {
			t.Fatalf("answer to %s = %v, %v", method, resp, err)
		}
	}
	// A second answer to the same request is not delivered again.
	again, err := h.client.Respond(ctx, &sessionv1.RespondRequest{SessionId: sess.GetId(), RequestId: asked["roots/list"],
		Outcome: &sessionv1.RespondRequest_Result{Result: []byte(`{"roots":[]}`)}})
	if err != nil || again.GetDelivered() {
		t.Fatalf("second answer = %v, %v; want not delivered", again, err)
	}
	ev, err := stream.Recv()
	if err != nil {
		t.Fatalf("waiting for the result: %v", err)
	}
	text := string(ev.GetResult())
	for _, want := range []string{"state=provider-state-1", `r={\"roots\":[]}`, `s={\"role\":\"assistant\"`} {
		if !strings.Contains(text, want) {
			t.Fatalf("result %s does not contain %s", text, want)
		}
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the result: %v, want EOF", err)
	}
}

// TestStatefulClientInputRefused: a client's error answer ends the call with an error
// that says what was refused.
func TestStatefulClientInputRefused(t *testing.T) {
	h := newHarnessWith(t, nil, inputFixture, nil)
	sess := h.initializeWith(t, "2025-06-18", `{"roots":{}}`)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	stream, err := h.client.Handle(ctx, stateful(sess, "tools/call", `{"name":"ask","arguments":{"requests":{"r":{"method":"roots/list","params":{}}}}}`))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	ev, err := stream.Recv()
	if err != nil || ev.GetRequest() == nil {
		t.Fatalf("first event = %v, %v; want the roots/list request", ev, err)
	}
	if _, err := h.client.Respond(ctx, &sessionv1.RespondRequest{SessionId: sess.GetId(), RequestId: ev.GetRequest().GetId(),
		Outcome: &sessionv1.RespondRequest_Error{Error: &sessionv1.Error{Code: -1, Message: "user said no"}}}); err != nil {
		t.Fatalf("Respond: %v", err)
	}
	ev, err = stream.Recv()
	if err != nil || ev.GetError().GetCode() != -32603 || !strings.Contains(ev.GetError().GetMessage(), "the client refused roots/list: user said no") {
		t.Fatalf("after the refusal = %v, %v", ev, err)
	}
	if _, err := h.client.Respond(ctx, &sessionv1.RespondRequest{SessionId: "no-such-session", RequestId: []byte(`"x"`),
		Outcome: &sessionv1.RespondRequest_Result{Result: []byte(`{}`)}}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Respond for an unknown session = %v, want NotFound", err)
	}
}
