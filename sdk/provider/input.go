package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// InputRequest is one request to the client (elicitation/create, sampling/createMessage,
// roots/list) with its params.
type InputRequest struct {
	Method string `json:"method"`
	Params any    `json:"params"`
}

// Elicit asks the user for a form: message and the JSON Schema of the answer's content.
func Elicit(message string, requestedSchema any) InputRequest {
	return InputRequest{Method: "elicitation/create", Params: map[string]any{
		"mode": "form", "message": message, "requestedSchema": requestedSchema,
	}}
}

// SamplingMessage is one message of a sampling request.
type SamplingMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// Sample asks the client's model to answer messages, in at most maxTokens.
func Sample(maxTokens int, messages ...SamplingMessage) InputRequest {
	return InputRequest{Method: "sampling/createMessage", Params: map[string]any{
		"messages": messages, "maxTokens": maxTokens,
	}}
}

// ListRoots asks the client for its roots.
func ListRoots() InputRequest { return InputRequest{Method: "roots/list", Params: struct{}{}} }

// InputRequired is returned (as an error) by a handler that needs the client's input
// first. The mesh asks the client each request, then calls the handler again with the
// same arguments; InputResponse reads each answer under its key and RequestState
// returns State. Providers stay stateless: whatever the next round needs goes in State.
type InputRequired struct {
	Requests map[string]InputRequest
	// State is encoded as JSON and comes back, unchanged, with the answers.
	State any
}

func (e *InputRequired) Error() string {
	return fmt.Sprintf("input required (%d requests)", len(e.Requests))
}

// encode turns e into the event the mesh expects.
func (e *InputRequired) encode() (*mcpv1.InputRequired, error) {
	out := &mcpv1.InputRequired{InputRequests: make(map[string][]byte, len(e.Requests))}
	for key, req := range e.Requests {
		b, err := json.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("encode input request %q: %w", key, err)
		}
		out.InputRequests[key] = b
	}
	if e.State != nil {
		b, err := json.Marshal(e.State)
		if err != nil {
			return nil, fmt.Errorf("encode request state: %w", err)
		}
		out.RequestState = b
	}
	return out, nil
}

// InputResponse returns the client's answer to the input request of key, from a
// previous round of this call, as raw JSON (an ElicitResult, CreateMessageResult or
// ListRootsResult); false when there is none.
func InputResponse(ctx context.Context, key string) (json.RawMessage, bool) {
	raw, ok := Request(ctx).GetInputResponses()[key]
	return raw, ok
}

// RequestState decodes the State of the InputRequired that led to this round into v;
// false when there is none or it does not decode.
func RequestState(ctx context.Context, v any) bool {
	raw := Request(ctx).GetRequestState()
	return len(raw) > 0 && json.Unmarshal(raw, v) == nil
}

// ClientCapabilities are the capabilities of the client that gate input requests.
type ClientCapabilities struct {
	Sampling    json.RawMessage `json:"sampling"`
	Elicitation json.RawMessage `json:"elicitation"`
	Roots       json.RawMessage `json:"roots"`
}

// Declared reports whether a capability was declared (present and not null).
func Declared(capability json.RawMessage) bool {
	return len(capability) > 0 && !bytes.Equal(capability, []byte("null"))
}

// Capabilities returns the calling client's capabilities; unreadable ones count as none.
func Capabilities(ctx context.Context) ClientCapabilities {
	var caps ClientCapabilities
	if raw := Request(ctx).GetClient().GetCapabilities(); len(raw) > 0 {
		_ = json.Unmarshal(raw, &caps)
	}
	return caps
}
