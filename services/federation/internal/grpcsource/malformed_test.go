package grpcsource_test

import (
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

// rawCodec hands a server's handler the bytes as they are on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// poisonedOrder is an Order on the wire that makes the protobuf runtime's
// reflective decoder panic: a Struct map entry that repeats its key with a varint
// wire type. FuzzOutputSchemaAdmitsProtojson found it (its corpus keeps it).
var poisonedOrder = []byte("100000000100000000\x92\x01\x180000\n\x12*\x10\n\x0e\n\x010\b0100000000")

func TestMalformedResponseIsAToolErrorNotACrash(t *testing.T) {
	poison := poisonedOrder
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A server that answers every method with the poisoned bytes.
	srv := grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var req []byte
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		return stream.SendMsg(&poison)
	}))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	s := shopSettings(lis.Addr().String())
	s.DescriptorSetFile = shoptest.DescriptorSetFile(t)
	client := serve(t, startSource(t, s))
	out, err := call(t, client, "ShopService.EchoOrder", `{"id": "o"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, out.result); !out.result.GetIsError() || !strings.HasPrefix(got, "INTERNAL: ") || !strings.Contains(got, "malformed message from the service") {
		t.Errorf("poisoned response: %q, want an INTERNAL tool error", got)
	}
}
