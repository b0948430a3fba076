// Package openapi embeds the OpenAPI document that protoc-gen-openapiv2 generates
// from the protos and the HTTP rules, so the gateway can serve it at /openapi.json.
package openapi

import _ "embed"

// JSON is the merged OpenAPI (Swagger 2.0) document of the REST API.
//
//go:embed mcpmesh.swagger.json
var JSON []byte
