module github.com/mcpmesh/mcpmesh/examples

go 1.27.3

replace (
	github.com/mcpmesh/mcpmesh/gen => ../gen
	github.com/mcpmesh/mcpmesh/sdk/provider => ../sdk/provider
	github.com/mcpmesh/mcpmesh/services/kit => ../services/kit
	github.com/mcpmesh/mcpmesh/tools => ../tools
)

require (
	github.com/mcpmesh/mcpmesh/sdk/provider v0.0.0-00010101000000-000000000000
	github.com/mcpmesh/mcpmesh/tools v0.0.0-00010101000000-000000000000
	github.com/modelcontextprotocol/go-sdk v1.8.0
)

require (
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.33.0 // indirect
	github.com/mcpmesh/mcpmesh/gen v0.0.0-00010101000000-000000000000 // indirect
	github.com/segmentio/asm v1.1.3 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	github.com/yosida95/uritemplate/v3 v3.0.2 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/grpc v1.85.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
