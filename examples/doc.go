// Package examples holds small providers built on the Go provider SDK (sdk/provider),
// each a main package that registers with a running mesh:
//
//   - units: typed tools that convert lengths and temperatures.
//   - notes: a notebook offered as resources and a resource template, a tool that
//     changes it (subscribers hear of each change), a prompt and completions.
//
// Their tests start the mesh binary (-target=all), serve the provider against its
// registry and call it through MCP with the official Go SDK client.
package examples
