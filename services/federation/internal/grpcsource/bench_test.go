package grpcsource_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/protoschema"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

// BenchmarkSchemaOrder derives the input schema of the richest message.
func BenchmarkSchemaOrder(b *testing.B) {
	d, err := shoptest.Files(b).FindDescriptorByName("acme.shop.v1.Order")
	if err != nil {
		b.Fatal(err)
	}
	md := d.(protoreflect.MessageDescriptor)
	for b.Loop() {
		if _, err := protoschema.ForMessage(md, protoschema.Input); err != nil {
			b.Fatal(err)
		}
	}
}

const benchArgs = `{"id": "o-1"}`

// BenchmarkCallThroughSource is a GetOrder tool call: the provider hop plus the
// source's translation plus the call to the service.
func BenchmarkCallThroughSource(b *testing.B) {
	addr := shoptest.Start(b, shoptest.ReflectionV1)
	src := startSource(b, shopSettings(addr))
	client := serve(b, src)
	ctx := context.Background()
	for b.Loop() {
		stream, err := client.CallTool(ctx, &providerv1.CallToolRequest{Name: "ShopService.GetOrder", Arguments: []byte(benchArgs)})
		if err != nil {
			b.Fatal(err)
		}
		for {
			ev, err := stream.Recv()
			if err != nil {
				b.Fatal(err)
			}
			if ev.GetResult() != nil {
				break
			}
		}
	}
}

// BenchmarkCallDirect is the same GetOrder without the mesh: a dynamic protojson call
// straight to the service, the floor the source is measured against.
func BenchmarkCallDirect(b *testing.B) {
	addr := shoptest.Start(b, shoptest.ReflectionV1)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	files := shoptest.Files(b)
	d, err := files.FindDescriptorByName("acme.shop.v1.ShopService.GetOrder")
	if err != nil {
		b.Fatal(err)
	}
	m := d.(protoreflect.MethodDescriptor)
	ctx := context.Background()
	for b.Loop() {
		in, out := dynamicpb.NewMessage(m.Input()), dynamicpb.NewMessage(m.Output())
		if err := protojson.Unmarshal([]byte(benchArgs), in); err != nil {
			b.Fatal(err)
		}
		if err := conn.Invoke(ctx, "/acme.shop.v1.ShopService/GetOrder", in, out); err != nil {
			b.Fatal(err)
		}
		if _, err := protojson.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
}
