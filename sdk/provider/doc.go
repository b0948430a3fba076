// Package provider is the Go SDK for mcpmesh providers: the services that put tools,
// resources, resource templates and prompts behind the mesh by implementing
// mcpmesh.provider.v1.ProviderService.
//
// A provider is a Server built with New and the features it offers:
//
//	srv, err := provider.New(provider.Options{Name: "units", Version: "1.0.0"},
//		provider.Tool("convert", "Converts a length.", convert),
//	)
//
// Typed tools take and return Go values; their input and output JSON Schemas are
// derived from the Go types (struct tags `json` and `jsonschema` name the properties
// and describe them; a field without omitempty is required). Handlers report progress
// and log messages with Progress and Log, and ask the client for input (elicitation,
// sampling, roots) by returning an *InputRequired error: the mesh asks the client and
// calls the tool again with the answers, which InputResponse reads.
//
// Serve runs the provider on a listener with gRPC health and a graceful stop; Run also
// keeps it registered with the mesh's registry (a lease renewed by heartbeats), which is
// all a provider process needs. The module depends only on the generated API (gen),
// gRPC and a JSON Schema library, so that providers outside the mesh stay light.
package provider
