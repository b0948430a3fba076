// Package catalogue keeps the data plane's view of the mesh: the latest routed
// catalogue streamed by the registry, with every entry's MCP JSON rendered once per
// revision and protocol-version class, and lookup maps that route a tool, prompt or
// resource to its provider. Requests read it through an atomic pointer and never call
// the registry.
package catalogue
