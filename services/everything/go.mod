module github.com/mcpmesh/mcpmesh/services/everything

go 1.27.3

require (
	github.com/mcpmesh/mcpmesh/gen v0.0.0-00010101000000-000000000000
	github.com/mcpmesh/mcpmesh/sdk/provider v0.0.0-00010101000000-000000000000
	github.com/mcpmesh/mcpmesh/services/kit v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
	google.golang.org/grpc v1.85.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.33.0 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/mcpmesh/mcpmesh/gen => ../../gen
	github.com/mcpmesh/mcpmesh/sdk/provider => ../../sdk/provider
	github.com/mcpmesh/mcpmesh/services/kit => ../kit
)
