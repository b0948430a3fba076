package tools

import (
	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/media"
)

// JSON Schemas and annotations of the tools. Kept as literal JSON: they travel as raw
// bytes and this is the form readers compare with the MCP documents.
const (
	schemaNoArgs = `{"type":"object","properties":{}}`
	schemaEcho   = `{"type":"object","properties":{"message":{"type":"string","description":"Text to echo back"}},"required":["message"]}`
	schemaAdd    = `{"type":"object","properties":{"a":{"type":"number","description":"First addend"},"b":{"type":"number","description":"Second addend"}},"required":["a","b"]}`
	schemaSum    = `{"type":"object","properties":{"sum":{"type":"number","description":"a + b"}},"required":["sum"]}`
	schemaSlow   = `{"type":"object","properties":{` +
		`"duration_ms":{"type":"integer","minimum":0,"maximum":30000,"default":1000,"description":"Total run time in milliseconds"},` +
		`"steps":{"type":"integer","minimum":1,"maximum":100,"default":5,"description":"Number of progress notifications, spaced evenly"}}}`
	schemaLongTask = `{"type":"object","properties":{` +
		`"duration_ms":{"type":"integer","minimum":0,"maximum":600000,"default":5000,"description":"Total run time in milliseconds"},` +
		`"steps":{"type":"integer","minimum":1,"maximum":1000,"default":5,"description":"Number of progress notifications, spaced evenly"}}}`
	schemaPrompt  = `{"type":"object","properties":{"prompt":{"type":"string","description":"The prompt to send to the LLM"}},"required":["prompt"]}`
	schemaMessage = `{"type":"object","properties":{"message":{"type":"string","description":"The message to show the user"}},"required":["message"]}`
	// schemaJSON2020_12 uses the 2020-12 vocabulary the suite checks survives the mesh
	// unchanged (SEP-1613, SEP-2106): $defs with an $anchor, $ref, allOf/anyOf and
	// if/then/else (a phone number when the contact method is phone, else an email).
	schemaJSON2020_12 = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
		`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},` +
		`"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},` +
		`"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],` +
		`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},` +
		`"then":{"required":["phone"]},"else":{"required":["email"]},` +
		`"additionalProperties":false}`

	schemaTouch = `{"type":"object","properties":{"uri":{"type":"string","description":"The resource to change","default":"test://watched-resource"}}}`

	// annotateTouches: changes a resource of this provider only.
	annotateTouches = `{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false}`
	// annotateReadOnly: tools that only compute or return fixtures.
	annotateReadOnly = `{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}`
	// annotateAsksClient: tools that ask the client (an LLM or a user) for input.
	annotateAsksClient = `{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":false,"openWorldHint":true}`

	// executionTask marks a tool that clients may run as a task (MCP tasks:
	// execution.taskSupport in 2025-11-25, the io.modelcontextprotocol/tasks extension
	// in 2026-07-28).
	executionTask = `{"taskSupport":"optional"}`
)

func def(name, title, description, input, output, annotations string) *mcpv1.Tool {
	t := &mcpv1.Tool{Name: name, Title: title, Description: description, InputSchema: []byte(input)}
	if output != "" {
		t.OutputSchema = []byte(output)
	}
	if annotations != "" {
		t.Annotations = []byte(annotations)
	}
	return t
}

// withExecution sets the tool's execution properties.
func withExecution(t *mcpv1.Tool, execution string) *mcpv1.Tool {
	t.Execution = []byte(execution)
	return t
}

// catalogue lists every tool: the provider's own simple names first, then the fixtures
// of the MCP conformance suite under the suite's exact names.
func catalogue(assets media.Assets, linked []*mcpv1.Resource, hooks Hooks) ([]Tool, error) {
	f, err := newFixtures(assets, linked)
	if err != nil {
		return nil, err
	}
	return []Tool{
		{def("echo", "Echo", "Returns the message prefixed with \"Echo: \".", schemaEcho, "", annotateReadOnly), runEcho},
		{def("add", "Add", "Adds two numbers and returns the sum as structured content.", schemaAdd, schemaSum, annotateReadOnly), runAdd},
		{def("slow", "Slow operation", "Runs for duration_ms, reporting progress after each of steps equal parts. Honours cancellation.", schemaSlow, "", annotateReadOnly), runSlow},
		{def("long-running-operation", "Long-running operation", "Same as slow: runs for duration_ms with steps progress notifications.", schemaSlow, "", annotateReadOnly), runSlow},
		{withExecution(def("long-task", "Long-running task", "Runs for duration_ms (up to 10 minutes), reporting progress after each of steps equal parts; meant to be run as a task. Honours cancellation.", schemaLongTask, "", annotateReadOnly), executionTask), runLongTask},
		{def("get-image", "Get image", "Returns a small PNG image.", schemaNoArgs, "", annotateReadOnly), fixed(f.image)},
		{def("get-audio", "Get audio", "Returns a short WAV sound.", schemaNoArgs, "", annotateReadOnly), fixed(f.audio)},
		{def("get-resource", "Get embedded resource", "Returns the text resource everything://static/1 embedded in the result.", schemaNoArgs, "", annotateReadOnly), fixed(f.embedded)},
		{def("get-resource-links", "Get resource links", "Returns links to the provider's static resources.", schemaNoArgs, "", annotateReadOnly), fixed(f.links)},
		{def("get-mixed-content", "Get mixed content", "Returns text, image, audio and an embedded resource in one result.", schemaNoArgs, "", annotateReadOnly), fixed(f.mixedAll)},
		{def("fail", "Fail", "Always fails with a tool error (isError: true).", schemaNoArgs, "", annotateReadOnly), fixedError(f.failText)},
		{def("log", "Log", "Sends log messages at debug, info, warning and error before returning; only levels at or above the client's log level are sent.", schemaNoArgs, "", annotateReadOnly), runLog},
		{def("sample", "Sample", "Asks the client's LLM to answer the prompt (sampling) and returns the answer.", schemaPrompt, "", annotateAsksClient), runSampling},
		{def("touch-resource", "Touch resource", "Changes the contents of a changing resource (test://watched-resource), which notifies its subscribers.", schemaTouch, "", annotateTouches), runTouch(hooks.Touch)},
		{def("elicit", "Elicit", "Asks the user for a username and an email (elicitation) and returns the answer.", schemaMessage, "", annotateAsksClient), runElicitation},

		{def("test_simple_text", "Simple text", "Tests simple text content response.", schemaNoArgs, "", annotateReadOnly), fixed(f.simpleText)},
		{def("test_image_content", "Image content", "Tests image content response.", schemaNoArgs, "", annotateReadOnly), fixed(f.image)},
		{def("test_audio_content", "Audio content", "Tests audio content response.", schemaNoArgs, "", annotateReadOnly), fixed(f.audio)},
		{def("test_embedded_resource", "Embedded resource", "Tests embedded resource content response.", schemaNoArgs, "", annotateReadOnly), fixed(f.conformanceEmbedded)},
		{def("test_multiple_content_types", "Multiple content types", "Tests response with multiple content types (text, image, resource).", schemaNoArgs, "", annotateReadOnly), fixed(f.mixed)},
		{def("test_tool_with_logging", "Tool with logging", "Tests tool that emits log messages during execution.", schemaNoArgs, "", annotateReadOnly), runConformanceLogging},
		{def("test_tool_with_progress", "Tool with progress", "Tests tool that reports progress notifications.", schemaNoArgs, "", annotateReadOnly), runConformanceProgress},
		{def("test_error_handling", "Error handling", "Tests error response handling.", schemaNoArgs, "", annotateReadOnly), fixedError(conformanceErrorText)},
		{def("test_sampling", "Sampling", "Tests server-initiated sampling (LLM completion request).", schemaPrompt, "", annotateAsksClient), runSampling},
		{def("test_elicitation", "Elicitation", "Tests server-initiated elicitation (user input request).", schemaMessage, "", annotateAsksClient), runElicitation},
		{def("test_elicitation_sep1034_defaults", "Elicitation with defaults", "Tests elicitation with default values per SEP-1034.", schemaNoArgs, "", annotateAsksClient), runElicitDefaults},
		{def("test_elicitation_sep1330_enums", "Elicitation with enums", "Tests elicitation with enum schemas per SEP-1330.", schemaNoArgs, "", annotateAsksClient), runElicitEnums},
		{def("json_schema_2020_12_tool", "JSON Schema 2020-12", "Tool with JSON Schema 2020-12 features", schemaJSON2020_12, "", annotateReadOnly), runJSONSchema2020},
		{def("test_reconnection", "Reconnection", "Tests SSE stream disconnection and client reconnection (SEP-1699): waits briefly, then returns text. The transport closes the stream mid-call.", schemaNoArgs, "", annotateReadOnly), runReconnection},

		// 2026-07-28 (stateless) diagnostics: capability checks, response streams, logs
		// and list changes (SEP-2575), custom headers (SEP-2243).
		{def("test_missing_capability", "Missing capability", "Asks the client's LLM (sampling) without checking the declared capabilities: a client that did not declare sampling gets -32021 from the mesh.", schemaNoArgs, "", annotateAsksClient), runAskWithoutChecking},
		{def("test_streaming_elicitation", "Streaming elicitation", "Reports progress and a log message on the response stream, then asks for the user's name (input_required): the stream never carries a request of its own.", schemaNoArgs, "", annotateAsksClient), runStreamingElicitation},
		{def("test_logging_tool", "Logging tool", "Sends three info log messages during execution; none unless the request set a log level.", schemaNoArgs, "", annotateReadOnly), runConformanceLogging},
		{def("test_trigger_tool_change", "Trigger tool change", "Adds test_dynamic_tool to the catalogue, or removes it: clients following tools/list_changed are notified.", schemaNoArgs, "", annotateTouches), runToggle(hooks.ToggleTool, "tool")},
		{def("test_trigger_prompt_change", "Trigger prompt change", "Adds the prompt test_dynamic_prompt, or removes it: clients following prompts/list_changed are notified.", schemaNoArgs, "", annotateTouches), runToggle(hooks.TogglePrompt, "prompt")},
		{def(DynamicToolName, "Dynamic tool", "Listed only while test_trigger_tool_change has added it.", schemaNoArgs, "", annotateReadOnly), runDynamic},
		{def("test_custom_headers", "Custom headers", "Arguments annotated with x-mcp-header travel as Mcp-Param-* HTTP headers too (SEP-2243), which the mesh checks against the body; returns what it routed.", schemaCustomHeaders, "", annotateReadOnly), runCustomHeaders},

		// Multi round-trip requests (SEP-2322): input_required with the suite's keys.
		{def("test_input_required_result_elicitation", "Input required: elicitation", "Asks for the user's name (user_name) with input_required, then greets them.", schemaNoArgs, "", annotateAsksClient), runAskName},
		{def("test_input_required_result_sampling", "Input required: sampling", "Asks the client's LLM for the capital of France (capital_question), then returns its answer.", schemaNoArgs, "", annotateAsksClient), runAskCapital},
		{def("test_input_required_result_list_roots", "Input required: roots", "Asks for the client's roots (client_roots), then lists them.", schemaNoArgs, "", annotateAsksClient), runAskRoots},
		{def("test_input_required_result_request_state", "Input required: request state", "Asks for a confirmation with a request state naming the step; answers \"state-ok\" only when that state comes back.", schemaNoArgs, "", annotateAsksClient), runConfirmWithState},
		{def("test_input_required_result_tampered_state", "Input required: tampered state", "Like test_input_required_result_request_state: a requestState altered by the client is refused by the mesh (-32602).", schemaNoArgs, "", annotateAsksClient), runConfirmWithState},
		{def("test_input_required_result_multiple_inputs", "Input required: several inputs", "Asks for a name (elicitation), a greeting (sampling) and the roots at once; asks again for whatever is still missing.", schemaNoArgs, "", annotateAsksClient), runAskThree},
		{def("test_input_required_result_multi_round", "Input required: two rounds", "Asks for a name (step1), then with a new state for a favourite colour (step2), then answers.", schemaNoArgs, "", annotateAsksClient), runTwoRounds},
		{def("test_input_required_result_capabilities", "Input required: declared capabilities", "Asks only for the input the client declared it can give (sampling, elicitation, roots).", schemaNoArgs, "", annotateAsksClient), runAskWhatIsDeclared},

		// Tasks (the io.modelcontextprotocol/tasks extension, SEP-2663).
		{def("greet", "Greet", "Returns \"Hello, <name>!\" at once (never a task).", schemaGreet, "", annotateReadOnly), runGreet},
		{withExecution(def("slow_compute", "Slow computation", "Works for the given seconds (0: at once), reporting progress each second; runs as a task for clients with the tasks extension. Honours cancellation.", schemaSlowCompute, "", annotateReadOnly), executionTask), runSlowCompute},
		{withExecution(def("failing_job", "Failing job", "Runs only as a task; works for a second, then reports a tool error (isError).", schemaNoArgs, "", annotateReadOnly), executionTaskRequired), runFailingJob},
		{withExecution(def("protocol_error_job", "Protocol error job", "Fails without a result (a JSON-RPC error, or a failed task).", schemaNoArgs, "", annotateReadOnly), executionTask), runProtocolErrorJob},
		{withExecution(def("confirm_delete", "Confirm delete", "Asks the user to confirm (confirm_delete) before it deletes the (simulated) file; as a task it waits in input_required.", schemaConfirmDelete, "", annotateAsksClient), executionTask), runConfirmDelete},
		{withExecution(def("multi_input", "Multiple inputs", "Asks for a name and a confirmation at once; as a task it stays input_required until both are answered.", schemaNoArgs, "", annotateAsksClient), executionTask), runMultiInput},
		{withExecution(def("test_tool_with_task", "Tool with task", "Runs only as a task: asks for the user's name first (input_required, before any task exists), then greets them from a task.", schemaNoArgs, "", annotateAsksClient), executionTaskRequired), runGreetAfterAsking},
	}, nil
}
