package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/sdk/provider"
)

// Keys of the provider's input requests. The session (or a stateless client) answers
// under the same key in RequestContext.input_responses.
const (
	samplingKey    = "sampling"
	elicitationKey = "elicitation"
)

// inputRequest is a server-to-client request as InputRequired.input_requests carries it.
type inputRequest struct {
	Method string `json:"method"`
	Params any    `json:"params"`
}

// requestState is the opaque state returned with input_required. The provider is
// stateless and the retried call carries its arguments again, so the state only names
// the tool, which helps whoever debugs a stray retry.
type requestState struct {
	Tool string `json:"tool"`
}

// clientCapabilities holds the capabilities that gate input requests.
type clientCapabilities struct {
	Sampling    json.RawMessage `json:"sampling"`
	Elicitation json.RawMessage `json:"elicitation"`
}

func declared(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func capabilitiesOf(rc *mcpv1.RequestContext) clientCapabilities {
	var caps clientCapabilities
	if raw := rc.GetClient().GetCapabilities(); len(raw) > 0 {
		// Unreadable capabilities count as none declared.
		_ = json.Unmarshal(raw, &caps)
	}
	return caps
}

// askClient builds the input_required outcome for one request.
func askClient(call *Call, key, method string, params any) (Outcome, error) {
	req, err := json.Marshal(inputRequest{Method: method, Params: params})
	if err != nil {
		return Outcome{}, fmt.Errorf("encode %s request: %w", method, err)
	}
	state, err := json.Marshal(requestState{Tool: call.Name})
	if err != nil {
		return Outcome{}, fmt.Errorf("encode request state: %w", err)
	}
	return Outcome{InputRequired: &mcpv1.InputRequired{
		InputRequests: map[string][]byte{key: req},
		RequestState:  state,
	}}, nil
}

// --- sampling ---

type samplingArgs struct {
	Prompt *string `json:"prompt"`
}

type samplingMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

type samplingParams struct {
	Messages  []samplingMessage `json:"messages"`
	MaxTokens int               `json:"maxTokens"`
}

// samplingResult is the part of CreateMessageResult the tool reads. Content is one block
// or (with sampling tools) an array of blocks.
type samplingResult struct {
	Model   string          `json:"model"`
	Content json.RawMessage `json:"content"`
}

type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// runSampling asks the client's LLM to answer the prompt, then returns its text.
func runSampling(_ context.Context, call *Call) (Outcome, error) {
	var args samplingArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	if args.Prompt == nil {
		return invalidArgs(call, missing("prompt"))
	}
	if answer, ok := call.Context.GetInputResponses()[samplingKey]; ok {
		text, err := sampledText(answer)
		if err != nil {
			return errorResult("The client's sampling response could not be read: " + err.Error())
		}
		return textResult("LLM response: " + text)
	}
	if !declared(capabilitiesOf(call.Context).Sampling) {
		return errorResult("This tool needs sampling, and the client did not declare the sampling capability.")
	}
	return askClient(call, samplingKey, "sampling/createMessage", samplingParams{
		Messages:  []samplingMessage{{Role: "user", Content: textContent{Type: "text", Text: *args.Prompt}}},
		MaxTokens: 100,
	})
}

// sampledText extracts the first text block of a CreateMessageResult.
func sampledText(raw []byte) (string, error) {
	var res samplingResult
	if err := provider.DecodeArguments(raw, &res); err != nil {
		return "", fmt.Errorf("not a CreateMessageResult: %w", err)
	}
	var blocks []textContent
	trimmed := bytes.TrimSpace(res.Content)
	switch {
	case len(trimmed) == 0:
		return "", fmt.Errorf("no content")
	case trimmed[0] == '[':
		if err := provider.DecodeArguments(trimmed, &blocks); err != nil {
			return "", fmt.Errorf("content: %w", err)
		}
	default:
		var one textContent
		if err := provider.DecodeArguments(trimmed, &one); err != nil {
			return "", fmt.Errorf("content: %w", err)
		}
		blocks = append(blocks, one)
	}
	for _, b := range blocks {
		if b.Type == "text" {
			return b.Text, nil
		}
	}
	return "", fmt.Errorf("no text content")
}

// --- elicitation ---

type elicitationArgs struct {
	Message *string `json:"message"`
}

type elicitParams struct {
	Mode            string          `json:"mode"`
	Message         string          `json:"message"`
	RequestedSchema json.RawMessage `json:"requestedSchema"`
}

// elicitResult is the client's ElicitResult.
type elicitResult struct {
	Action  string          `json:"action"`
	Content json.RawMessage `json:"content"`
}

// Requested schemas of the elicitation fixtures.
const (
	elicitUserSchema = `{"type":"object","properties":{` +
		`"username":{"type":"string","description":"User's response"},` +
		`"email":{"type":"string","description":"User's email address"}},"required":["username","email"]}`
	elicitDefaultsSchema = `{"type":"object","properties":{` +
		`"name":{"type":"string","description":"User name","default":"John Doe"},` +
		`"age":{"type":"integer","description":"User age","default":30},` +
		`"score":{"type":"number","description":"User score","default":95.5},` +
		`"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},` +
		`"verified":{"type":"boolean","description":"Verification status","default":true}},"required":[]}`
	elicitEnumsSchema = `{"type":"object","properties":{` +
		`"untitledSingle":{"type":"string","description":"Untitled single-select","enum":["option1","option2","option3"]},` +
		`"titledSingle":{"type":"string","description":"Titled single-select","oneOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},` +
		`"legacyEnum":{"type":"string","description":"Legacy titled enum","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]},` +
		`"untitledMulti":{"type":"array","description":"Untitled multi-select","items":{"type":"string","enum":["option1","option2","option3"]}},` +
		`"titledMulti":{"type":"array","description":"Titled multi-select","items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},{"const":"value3","title":"Third Choice"}]}}},"required":[]}`
)

// elicit asks the user with the given message and schema, or formats their answer.
func elicit(call *Call, message, schema, answerPrefix string) (Outcome, error) {
	if answer, ok := call.Context.GetInputResponses()[elicitationKey]; ok {
		var res elicitResult
		if err := json.Unmarshal(answer, &res); err != nil || res.Action == "" {
			return errorResult("The client's elicitation response could not be read: expected an ElicitResult with an action.")
		}
		got := "{}"
		if declared(res.Content) {
			var compact bytes.Buffer
			if err := json.Compact(&compact, res.Content); err == nil {
				got = compact.String()
			}
		}
		return textResult(fmt.Sprintf("%s: action=%s, content=%s", answerPrefix, res.Action, got))
	}
	if !declared(capabilitiesOf(call.Context).Elicitation) {
		return errorResult("This tool needs elicitation, and the client did not declare the elicitation capability.")
	}
	return askClient(call, elicitationKey, "elicitation/create", elicitParams{
		Mode: "form", Message: message, RequestedSchema: json.RawMessage(schema),
	})
}

func runElicitation(_ context.Context, call *Call) (Outcome, error) {
	var args elicitationArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	if args.Message == nil {
		return invalidArgs(call, missing("message"))
	}
	return elicit(call, *args.Message, elicitUserSchema, "User response")
}

func runElicitDefaults(_ context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	return elicit(call, "Please review and update the form fields with defaults", elicitDefaultsSchema, "Elicitation completed")
}

func runElicitEnums(_ context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	return elicit(call, "Please choose from the enum fields", elicitEnumsSchema, "Elicitation completed")
}
