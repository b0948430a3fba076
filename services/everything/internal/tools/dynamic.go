package tools

import "context"

// Hooks are what tools that change the provider itself call.
type Hooks struct {
	// Touch changes a changing resource (touch-resource).
	Touch func(uri string) error
	// ToggleTool adds DynamicToolName to the catalogue, or removes it; it reports
	// whether the tool is listed now. ToggleTool and TogglePrompt may be nil.
	ToggleTool func() bool
	// TogglePrompt does the same for the prompt prompts.DynamicName.
	TogglePrompt func() bool
}

// DynamicToolName is the tool test_trigger_tool_change adds and removes.
const DynamicToolName = "test_dynamic_tool"

// runDynamic: test_dynamic_tool, callable while it is listed.
func runDynamic(_ context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	return textResult("test_dynamic_tool is listed right now; test_trigger_tool_change removes it again.")
}

// runToggle changes the catalogue through toggle (the tools/list_changed and
// prompts/list_changed diagnostics of the conformance suite).
func runToggle(toggle func() bool, what string) Handler {
	return func(_ context.Context, call *Call) (Outcome, error) {
		if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
			return invalidArgs(call, err)
		}
		if toggle == nil {
			return errorResult("This provider's " + what + " list cannot change.")
		}
		if toggle() {
			return textResult("Added the " + what + " test_dynamic_" + what + "; clients that follow list changes are notified.")
		}
		return textResult("Removed the " + what + " test_dynamic_" + what + "; clients that follow list changes are notified.")
	}
}
