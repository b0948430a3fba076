// Package gen is the module of the Go code that buf generates from proto/: messages,
// gRPC stubs, grpc-gateway handlers and the OpenAPI document. Never edit the generated
// files; run make generate.
package gen
