// Package openapi embeds the OpenAPI documents that protoc-gen-openapiv2 generates
// from the protos and the HTTP rules (buf.gen.yaml), one per listener: the gateway
// serves JSON at /openapi.json, the admin listener AdminJSON at its /openapi.json.
package openapi

import _ "embed"

// JSON is the merged OpenAPI (Swagger 2.0) document of the gateway's REST API: every
// route the gateway serves, and no other.
//
//go:embed mcpmesh.swagger.json
var JSON []byte

// AdminJSON is the OpenAPI (Swagger 2.0) document of the federation's upstream admin
// API (UpstreamAdminService), which only the admin listener serves.
//
//go:embed admin.swagger.json
var AdminJSON []byte
