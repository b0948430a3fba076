// Package everything is mcpmesh's built-in provider that exercises every MCP feature a
// provider can: text, structured, image, audio, embedded-resource and resource-link
// results, tool errors, progress, log messages, sampling and elicitation (through
// input_required), resources and templates, prompts and completion. It backs the quick
// start, the end-to-end tests, the benchmarks and the MCP conformance suite, whose fixture
// names (test_simple_text, test://static-text, test_simple_prompt, ...) it serves next to
// its own simple names (echo, add, slow, ...).
//
// It is built on the Go provider SDK (sdk/provider), which serves the ProviderService;
// provider.KeepRegistered keeps it registered with the registry.
package everything
