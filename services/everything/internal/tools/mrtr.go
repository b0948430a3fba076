package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// The multi round-trip fixtures of the conformance suite (SEP-2322, 2026-07-28): each
// asks the client for input with input_required under the key names the suite uses,
// and finishes once the retried call carries the answers. The mesh signs the state
// (requestState) and checks the client's capabilities; stateful clients get the same
// requests on their stream. Answers under unknown keys are ignored; a missing or
// unreadable answer is asked for again.

// Keys of the fixtures' input requests.
const (
	keyUserName      = "user_name"
	keyCapital       = "capital_question"
	keyClientRoots   = "client_roots"
	keyConfirm       = "confirm"
	keyGreeting      = "greeting"
	keyStep1         = "step1"
	keyStep2         = "step2"
	keyDeleteConfirm = "confirm_delete"
	keyContactName   = "name"
)

// Requested schemas of the fixtures' elicitations.
const (
	schemaAskName    = `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`
	schemaAskOK      = `{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`
	schemaAskColor   = `{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}`
	schemaAskConfirm = `{"type":"object","properties":{"confirm":{"type":"boolean","description":"Go ahead"}},"required":["confirm"]}`
)

// ask is one input request: the key it is answered under, its method and params.
type ask struct {
	key    string
	method string
	params any
}

func askElicit(key, message, schema string) ask {
	return ask{key, "elicitation/create", elicitParams{Mode: "form", Message: message, RequestedSchema: json.RawMessage(schema)}}
}

func askSampling(key, prompt string, maxTokens int) ask {
	return ask{key, "sampling/createMessage", samplingParams{
		Messages:  []samplingMessage{{Role: "user", Content: textContent{Type: "text", Text: prompt}}},
		MaxTokens: maxTokens,
	}}
}

func askRoots(key string) ask { return ask{key, "roots/list", struct{}{}} }

// askFor builds the input_required outcome for several requests with state (nil: the
// tool's name only).
func askFor(call *Call, state any, asks ...ask) (Outcome, error) {
	if state == nil {
		state = requestState{Tool: call.Name}
	}
	rawState, err := json.Marshal(state)
	if err != nil {
		return Outcome{}, fmt.Errorf("encode request state: %w", err)
	}
	requests := make(map[string][]byte, len(asks))
	for _, a := range asks {
		req, err := json.Marshal(inputRequest{Method: a.method, Params: a.params})
		if err != nil {
			return Outcome{}, fmt.Errorf("encode %s request: %w", a.method, err)
		}
		requests[a.key] = req
	}
	return Outcome{InputRequired: &mcpv1.InputRequired{InputRequests: requests, RequestState: rawState}}, nil
}

// elicited reads an accepted elicitation answer under key into content. ok is false
// when there is no readable ElicitResult (ask again); accepted tells accept from
// decline or cancel.
func elicited(call *Call, key string, content any) (accepted, ok bool) {
	raw, found := call.Context.GetInputResponses()[key]
	if !found {
		return false, false
	}
	var res elicitResult
	if json.Unmarshal(raw, &res) != nil {
		return false, false
	}
	switch res.Action {
	case "accept":
		if content != nil && declared(res.Content) && json.Unmarshal(res.Content, content) != nil {
			return false, false
		}
		return true, true
	case "decline", "cancel":
		return false, true
	default:
		return false, false
	}
}

// sampled reads a CreateMessageResult's text under key.
func sampled(call *Call, key string) (string, bool) {
	raw, found := call.Context.GetInputResponses()[key]
	if !found {
		return "", false
	}
	text, err := sampledText(raw)
	return text, err == nil
}

// listedRoots reads a ListRootsResult under key and names its roots.
func listedRoots(call *Call, key string) ([]string, bool) {
	raw, found := call.Context.GetInputResponses()[key]
	if !found {
		return nil, false
	}
	var res struct {
		Roots []struct {
			URI  string `json:"uri"`
			Name string `json:"name"`
		} `json:"roots"`
	}
	if json.Unmarshal(raw, &res) != nil || res.Roots == nil {
		return nil, false
	}
	names := make([]string, len(res.Roots))
	for i, r := range res.Roots {
		names[i] = r.URI
	}
	return names, true
}

type nameAnswer struct {
	Name string `json:"name"`
}

// runAskName: test_input_required_result_elicitation, "What is your name?" under
// user_name, then "Hello, <name>!".
func runAskName(_ context.Context, call *Call) (Outcome, error) {
	var answer nameAnswer
	accepted, ok := elicited(call, keyUserName, &answer)
	switch {
	case !ok:
		return askFor(call, nil, askElicit(keyUserName, "What is your name?", schemaAskName))
	case !accepted:
		return textResult("Hello, stranger! (the user did not give a name)")
	}
	return textResult("Hello, " + answer.Name + "!")
}

// runAskCapital: test_input_required_result_sampling, a question for the client's LLM
// under capital_question, then its answer.
func runAskCapital(_ context.Context, call *Call) (Outcome, error) {
	text, ok := sampled(call, keyCapital)
	if !ok {
		return askFor(call, nil, askSampling(keyCapital, "What is the capital of France?", 100))
	}
	return textResult("The LLM answered: " + text)
}

// runAskRoots: test_input_required_result_list_roots, the client's roots under
// client_roots, then a list of them.
func runAskRoots(_ context.Context, call *Call) (Outcome, error) {
	roots, ok := listedRoots(call, keyClientRoots)
	if !ok {
		return askFor(call, nil, askRoots(keyClientRoots))
	}
	return textResult(fmt.Sprintf("The client shares %d root(s): %s", len(roots), strings.Join(roots, ", ")))
}

// confirmState is the state of the confirmation fixtures: the tool and the step it
// waits for. The mesh signs it, so a client cannot alter it unnoticed.
type confirmState struct {
	Tool string `json:"tool"`
	Step string `json:"step"`
}

// runConfirmWithState: test_input_required_result_request_state (and _tampered_state),
// "Please confirm" under confirm with a state naming the step; the answer counts only
// with that state back ("state-ok").
func runConfirmWithState(_ context.Context, call *Call) (Outcome, error) {
	want := confirmState{Tool: call.Name, Step: keyConfirm}
	var got confirmState
	stateOK := json.Unmarshal(call.Context.GetRequestState(), &got) == nil && got == want
	var answer struct {
		OK bool `json:"ok"`
	}
	accepted, ok := elicited(call, keyConfirm, &answer)
	if !ok || !stateOK {
		return askFor(call, want, askElicit(keyConfirm, "Please confirm", schemaAskOK))
	}
	return textResult(fmt.Sprintf("state-ok: the request state came back intact; confirmed=%t", accepted && answer.OK))
}

// runAskThree: test_input_required_result_multiple_inputs, an elicitation, a sampling
// and a roots request at once; answers that are still missing are asked for again.
func runAskThree(_ context.Context, call *Call) (Outcome, error) {
	var answer nameAnswer
	accepted, nameOK := elicited(call, keyUserName, &answer)
	greeting, greetingOK := sampled(call, keyGreeting)
	roots, rootsOK := listedRoots(call, keyClientRoots)
	var missing []ask
	if !nameOK {
		missing = append(missing, askElicit(keyUserName, "What is your name?", schemaAskName))
	}
	if !greetingOK {
		missing = append(missing, askSampling(keyGreeting, "Generate a greeting", 50))
	}
	if !rootsOK {
		missing = append(missing, askRoots(keyClientRoots))
	}
	if len(missing) > 0 {
		return askFor(call, nil, missing...)
	}
	if !accepted {
		answer.Name = "stranger"
	}
	return textResult(fmt.Sprintf("%s, %s! The client shares %d root(s).", greeting, answer.Name, len(roots)))
}

// roundState is the state of the multi-round fixture: the step it waits for and what
// the earlier steps gathered.
type roundState struct {
	Step int    `json:"step"`
	Name string `json:"name,omitempty"`
}

// runTwoRounds: test_input_required_result_multi_round, a name (step1), then with a new
// state a favourite colour (step2), then the result.
func runTwoRounds(_ context.Context, call *Call) (Outcome, error) {
	var st roundState
	_ = json.Unmarshal(call.Context.GetRequestState(), &st) // no state: the first round
	switch st.Step {
	case 2:
		var color struct {
			Color string `json:"color"`
		}
		if accepted, ok := elicited(call, keyStep2, &color); ok {
			if !accepted {
				color.Color = "unknown"
			}
			return textResult(fmt.Sprintf("%s's favorite color is %s.", st.Name, color.Color))
		}
		return askFor(call, st, askElicit(keyStep2, "Step 2: What is your favorite color?", schemaAskColor))
	case 1:
		var answer nameAnswer
		if accepted, ok := elicited(call, keyStep1, &answer); ok {
			if !accepted {
				answer.Name = "stranger"
			}
			return askFor(call, roundState{Step: 2, Name: answer.Name},
				askElicit(keyStep2, "Step 2: What is your favorite color?", schemaAskColor))
		}
	}
	return askFor(call, roundState{Step: 1}, askElicit(keyStep1, "Step 1: What is your name?", schemaAskName))
}

// runAskWhatIsDeclared: test_input_required_result_capabilities, asks only for what the
// client declared it can answer (sampling, elicitation, roots).
func runAskWhatIsDeclared(_ context.Context, call *Call) (Outcome, error) {
	var caps struct {
		Sampling, Elicitation, Roots json.RawMessage
	}
	if raw := call.Context.GetClient().GetCapabilities(); len(raw) > 0 {
		_ = json.Unmarshal(raw, &caps) // unreadable capabilities declare nothing
	}
	var asks []ask
	var got []string
	if declared(caps.Sampling) {
		if text, ok := sampled(call, keyCapital); ok {
			got = append(got, "sampling: "+text)
		} else {
			asks = append(asks, askSampling(keyCapital, "What is the capital of France?", 100))
		}
	}
	if declared(caps.Elicitation) {
		var answer nameAnswer
		if _, ok := elicited(call, keyUserName, &answer); ok {
			got = append(got, "elicitation: "+answer.Name)
		} else {
			asks = append(asks, askElicit(keyUserName, "What is your name?", schemaAskName))
		}
	}
	if declared(caps.Roots) {
		if roots, ok := listedRoots(call, keyClientRoots); ok {
			got = append(got, fmt.Sprintf("roots: %d", len(roots)))
		} else {
			asks = append(asks, askRoots(keyClientRoots))
		}
	}
	if len(asks) > 0 {
		return askFor(call, nil, asks...)
	}
	if len(got) == 0 {
		return textResult("The client declared none of sampling, elicitation and roots, so nothing was asked.")
	}
	return textResult("Answers for the declared capabilities: " + strings.Join(got, "; "))
}

// runAskWithoutChecking: test_missing_capability, asks the client's LLM through
// sampling without looking at the declared capabilities, so that the mesh's own check
// shows: a client that did not declare sampling gets -32021 naming it.
func runAskWithoutChecking(_ context.Context, call *Call) (Outcome, error) {
	if text, ok := sampled(call, keyCapital); ok {
		return textResult("The LLM answered: " + text)
	}
	return askFor(call, nil, askSampling(keyCapital, "What is the capital of France?", 100))
}

// runStreamingElicitation: test_streaming_elicitation, reports progress and a log line
// on the response stream (when the request asked for them), then asks for the user's
// name: the stream carries notifications and the input_required result, never a
// request of its own.
func runStreamingElicitation(ctx context.Context, call *Call) (Outcome, error) {
	var answer nameAnswer
	if accepted, ok := elicited(call, keyUserName, &answer); ok {
		if !accepted {
			answer.Name = "stranger"
		}
		return textResult("Hello, " + answer.Name + "!")
	}
	if err := call.Emit.Progress(ctx, 1, 2, "Preparing the question"); err != nil {
		return Outcome{}, err
	}
	if err := call.Emit.Log(ctx, "info", "Asking the user for their name"); err != nil {
		return Outcome{}, err
	}
	return askFor(call, nil, askElicit(keyUserName, "What is your name?", schemaAskName))
}
