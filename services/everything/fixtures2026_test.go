package everything

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// The fixtures of the 2026-07-28 conformance scenarios, driven the way the mesh drives
// them: a call, its input_required, and a retry carrying the answers and the state.

const allCaps = `{"sampling":{},"elicitation":{},"roots":{}}`

// round calls a tool with the answers and state of the previous round.
func round(t *testing.T, c providerv1.ProviderServiceClient, tool, args, caps string, answers map[string]string, state []byte) *providerv1.CallToolResponse {
	t.Helper()
	rc := withCaps(caps)
	rc.RequestState = state
	if len(answers) > 0 {
		rc.InputResponses = map[string][]byte{}
		for k, v := range answers {
			rc.InputResponses[k] = []byte(v)
		}
	}
	events, err := callTool(t, c, &providerv1.CallToolRequest{Name: tool, Arguments: []byte(args), Context: rc})
	if err != nil || len(events) == 0 {
		t.Fatalf("%s: %v %v", tool, events, err)
	}
	return events[len(events)-1]
}

// asked returns the methods of an input_required by key, failing on anything else.
func asked(t *testing.T, ev *providerv1.CallToolResponse) (map[string]string, []byte) {
	t.Helper()
	ir := ev.GetInputRequired()
	if ir == nil {
		t.Fatalf("want input_required, got %v", ev)
	}
	methods := map[string]string{}
	for k, raw := range ir.GetInputRequests() {
		var r struct {
			Method string `json:"method"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		methods[k] = r.Method
	}
	return methods, ir.GetRequestState()
}

func resultText(t *testing.T, ev *providerv1.CallToolResponse) string {
	t.Helper()
	if ev.GetResult() == nil {
		t.Fatalf("want a result, got %v", ev)
	}
	b := decodeBlocks(t, ev.GetResult().GetContent())
	return b[0].Text
}

const (
	accept       = `{"action":"accept","content":{"name":"Alice"}}`
	llmAnswer    = `{"role":"assistant","content":{"type":"text","text":"Paris"},"model":"m"}`
	rootsAnswer  = `{"roots":[{"uri":"file:///test/root","name":"Test Root"}]}`
	colorAnswer  = `{"action":"accept","content":{"color":"blue"}}`
	okAnswer     = `{"action":"accept","content":{"ok":true}}`
	confirmation = `{"action":"accept","content":{"confirm":true}}`
)

func TestInputRequiredFixtures(t *testing.T) {
	c, _ := serve(t)
	t.Run("single requests", func(t *testing.T) {
		for _, tt := range []struct{ tool, key, method, answer, want string }{
			{"test_input_required_result_elicitation", "user_name", "elicitation/create", accept, "Hello, Alice!"},
			{"test_input_required_result_sampling", "capital_question", "sampling/createMessage", llmAnswer, "The LLM answered: Paris"},
			{"test_input_required_result_list_roots", "client_roots", "roots/list", rootsAnswer, "file:///test/root"},
			{"test_missing_capability", "capital_question", "sampling/createMessage", llmAnswer, "Paris"},
			{"test_streaming_elicitation", "user_name", "elicitation/create", accept, "Hello, Alice!"},
		} {
			methods, state := asked(t, round(t, c, tt.tool, `{}`, allCaps, nil, nil))
			if len(methods) != 1 || methods[tt.key] != tt.method {
				t.Fatalf("%s asked %v", tt.tool, methods)
			}
			// Unknown keys are ignored; a missing answer is asked for again.
			if m, _ := asked(t, round(t, c, tt.tool, `{}`, allCaps, map[string]string{"wrong_key": accept}, state)); m[tt.key] != tt.method {
				t.Fatalf("%s did not ask again: %v", tt.tool, m)
			}
			answers := map[string]string{tt.key: tt.answer, "unknown_extra_key": accept}
			if got := resultText(t, round(t, c, tt.tool, `{}`, allCaps, answers, state)); !strings.Contains(got, tt.want) {
				t.Errorf("%s: %q, want %q", tt.tool, got, tt.want)
			}
		}
	})
	t.Run("request state must come back", func(t *testing.T) {
		for _, tool := range []string{"test_input_required_result_request_state", "test_input_required_result_tampered_state"} {
			_, state := asked(t, round(t, c, tool, `{}`, allCaps, nil, nil))
			// Without its state the answer is not enough: the tool asks again.
			asked(t, round(t, c, tool, `{}`, allCaps, map[string]string{"confirm": okAnswer}, nil))
			if got := resultText(t, round(t, c, tool, `{}`, allCaps, map[string]string{"confirm": okAnswer}, state)); !strings.Contains(got, "state-ok") {
				t.Errorf("%s: %q", tool, got)
			}
		}
	})
	t.Run("several inputs, missing ones asked again", func(t *testing.T) {
		const tool = "test_input_required_result_multiple_inputs"
		methods, state := asked(t, round(t, c, tool, `{}`, allCaps, nil, nil))
		if methods["user_name"] != "elicitation/create" || methods["greeting"] != "sampling/createMessage" || methods["client_roots"] != "roots/list" {
			t.Fatalf("asked %v", methods)
		}
		again, _ := asked(t, round(t, c, tool, `{}`, allCaps, map[string]string{"user_name": accept}, state))
		if len(again) != 2 || again["user_name"] != "" {
			t.Fatalf("asked again %v, want greeting and client_roots", again)
		}
		all := map[string]string{"user_name": accept, "greeting": llmAnswer, "client_roots": rootsAnswer}
		if got := resultText(t, round(t, c, tool, `{}`, allCaps, all, state)); !strings.Contains(got, "Paris, Alice!") {
			t.Errorf("%q", got)
		}
	})
	t.Run("two rounds with a new state each", func(t *testing.T) {
		const tool = "test_input_required_result_multi_round"
		m1, s1 := asked(t, round(t, c, tool, `{}`, allCaps, nil, nil))
		m2, s2 := asked(t, round(t, c, tool, `{}`, allCaps, map[string]string{"step1": accept}, s1))
		if m1["step1"] == "" || m2["step2"] == "" || string(s1) == string(s2) {
			t.Fatalf("rounds %v %s, %v %s", m1, s1, m2, s2)
		}
		if got := resultText(t, round(t, c, tool, `{}`, allCaps, map[string]string{"step2": colorAnswer}, s2)); got != "Alice's favorite color is blue." {
			t.Errorf("%q", got)
		}
	})
	t.Run("only declared capabilities", func(t *testing.T) {
		methods, _ := asked(t, round(t, c, "test_input_required_result_capabilities", `{}`, `{"sampling":{}}`, nil, nil))
		if len(methods) != 1 || methods["capital_question"] != "sampling/createMessage" {
			t.Fatalf("asked %v, want sampling only", methods)
		}
		if got := resultText(t, round(t, c, "test_input_required_result_capabilities", `{}`, `{}`, nil, nil)); !strings.Contains(got, "nothing was asked") {
			t.Errorf("%q", got)
		}
	})
}

func TestInputRequiredPrompt(t *testing.T) {
	c, _ := serve(t)
	ctx := context.Background()
	resp, err := c.GetPrompt(ctx, &providerv1.GetPromptRequest{Name: "test_input_required_result_prompt", Context: withCaps(allCaps)})
	if err != nil || resp.GetInputRequired().GetInputRequests()["user_context"] == nil || resp.GetMessages() != nil {
		t.Fatalf("round 1: %v %v", resp, err)
	}
	rc := withCaps(allCaps)
	rc.InputResponses = map[string][]byte{"user_context": []byte(`{"action":"accept","content":{"context":"test context"}}`)}
	rc.RequestState = resp.GetInputRequired().GetRequestState()
	resp, err = c.GetPrompt(ctx, &providerv1.GetPromptRequest{Name: "test_input_required_result_prompt", Context: rc})
	if err != nil || resp.GetInputRequired() != nil || !strings.Contains(string(resp.GetMessages()), "test context") {
		t.Fatalf("round 2: %v %v", resp, err)
	}
}

func TestTaskFixtures(t *testing.T) {
	c, _ := serve(t)
	if got := resultText(t, round(t, c, "greet", `{"name":"World"}`, `{}`, nil, nil)); got != "Hello, World!" {
		t.Errorf("greet: %q", got)
	}
	if got := resultText(t, round(t, c, "slow_compute", `{"seconds":0,"label":"instant"}`, `{}`, nil, nil)); !strings.Contains(got, "instant") {
		t.Errorf("slow_compute: %q", got)
	}
	if ev := round(t, c, "failing_job", `{}`, `{}`, nil, nil); !ev.GetResult().GetIsError() {
		t.Errorf("failing_job: want a tool error, got %v", ev)
	}
	if _, err := callTool(t, c, &providerv1.CallToolRequest{Name: "protocol_error_job", Arguments: []byte(`{}`)}); status.Code(err) != codes.Internal {
		t.Errorf("protocol_error_job: %v", err)
	}
	methods, _ := asked(t, round(t, c, "confirm_delete", `{"filename":"a.txt"}`, allCaps, nil, nil))
	if methods["confirm_delete"] != "elicitation/create" {
		t.Fatalf("confirm_delete asked %v", methods)
	}
	if got := resultText(t, round(t, c, "confirm_delete", `{"filename":"a.txt"}`, allCaps, map[string]string{"confirm_delete": confirmation}, nil)); !strings.HasPrefix(got, "Deleted a.txt") {
		t.Errorf("confirm_delete: %q", got)
	}
	methods, _ = asked(t, round(t, c, "multi_input", `{}`, allCaps, nil, nil))
	if len(methods) != 2 {
		t.Fatalf("multi_input asked %v, want two at once", methods)
	}
	if m, _ := asked(t, round(t, c, "multi_input", `{}`, allCaps, map[string]string{"name": accept}, nil)); len(m) != 1 || m["confirm"] == "" {
		t.Fatalf("multi_input after one answer asked %v", m)
	}
	both := map[string]string{"name": accept, "confirm": confirmation}
	if got := resultText(t, round(t, c, "multi_input", `{}`, allCaps, both, nil)); !strings.Contains(got, `name="Alice", confirmed=true`) {
		t.Errorf("multi_input: %q", got)
	}
	if ev := round(t, c, "test_tool_with_task", `{}`, allCaps, nil, nil); !ev.GetInputRequired().GetBeforeTask() {
		t.Fatalf("test_tool_with_task must ask before its task exists: %v", ev)
	}
	if got := resultText(t, round(t, c, "test_tool_with_task", `{}`, allCaps, map[string]string{"user_name": accept}, nil)); !strings.Contains(got, "Alice") {
		t.Errorf("test_tool_with_task: %q", got)
	}
}

// TestSlowComputeHonoursCancellation: cancelling the call (tasks/cancel cancels the
// provider call's context) ends a long computation at once.
func TestSlowComputeHonoursCancellation(t *testing.T) {
	c, _ := serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.CallTool(ctx, &providerv1.CallToolRequest{Name: "slow_compute", Arguments: []byte(`{"seconds":60}`)})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("want Canceled, got %v", err)
	}
}

// TestCatalogueToggles: the list-change fixtures add and remove a tool and a prompt,
// Describe follows, the hidden ones cannot be used, and each change is signalled.
func TestCatalogueToggles(t *testing.T) {
	c, p := serve(t)
	ctx := context.Background()
	listed := func() (tools, prompts []string) {
		d, err := c.Describe(ctx, &providerv1.DescribeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range d.GetCatalogue().GetTools() {
			tools = append(tools, tool.GetName())
		}
		for _, pr := range d.GetCatalogue().GetPrompts() {
			prompts = append(prompts, pr.GetName())
		}
		return tools, prompts
	}
	signalled := func() bool {
		select {
		case <-p.CatalogueChanged():
			return true
		case <-time.After(time.Second):
			return false
		}
	}
	tools, prompts := listed()
	if slices.Contains(tools, "test_dynamic_tool") || slices.Contains(prompts, "test_dynamic_prompt") {
		t.Fatal("dynamic entries listed before any trigger")
	}
	if _, err := callTool(t, c, &providerv1.CallToolRequest{Name: "test_dynamic_tool"}); status.Code(err) != codes.NotFound {
		t.Fatalf("hidden tool callable: %v", err)
	}
	resultText(t, round(t, c, "test_trigger_tool_change", `{}`, `{}`, nil, nil))
	if !signalled() {
		t.Fatal("tool change not signalled")
	}
	resultText(t, round(t, c, "test_trigger_prompt_change", `{}`, `{}`, nil, nil))
	if !signalled() {
		t.Fatal("prompt change not signalled")
	}
	tools, prompts = listed()
	if !slices.Contains(tools, "test_dynamic_tool") || !slices.Contains(prompts, "test_dynamic_prompt") {
		t.Fatalf("dynamic entries not listed after the triggers: %v %v", tools, prompts)
	}
	resultText(t, round(t, c, "test_dynamic_tool", `{}`, `{}`, nil, nil))
	if _, err := c.GetPrompt(ctx, &providerv1.GetPromptRequest{Name: "test_dynamic_prompt"}); err != nil {
		t.Fatal(err)
	}
	resultText(t, round(t, c, "test_trigger_tool_change", `{}`, `{}`, nil, nil))
	if tools, _ = listed(); slices.Contains(tools, "test_dynamic_tool") {
		t.Fatal("the second trigger did not remove the tool")
	}
}
