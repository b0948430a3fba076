package protoschema_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/protoschema"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

// FuzzOutputSchemaAdmitsProtojson decodes arbitrary wire bytes as an Order (any field
// values, unknown enum numbers included), writes it as the source does, and checks
// that the output schema admits it: the schema must describe whatever a service can
// send.
func FuzzOutputSchemaAdmitsProtojson(f *testing.F) {
	files := shoptest.Files(f)
	types := dynamicpb.NewTypes(files)
	order := messageIn(f, files, "acme.shop.v1.Order")
	doc, err := protoschema.ForMessage(order, protoschema.Output)
	if err != nil {
		f.Fatal(err)
	}
	schema := compile(f, doc)
	seed := dynamicpb.NewMessage(order)
	if err := (protojson.UnmarshalOptions{Resolver: types}).Unmarshal([]byte(fullOrder), seed); err != nil {
		f.Fatal(err)
	}
	raw, err := proto.Marshal(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, wire []byte) {
		m := dynamicpb.NewMessage(order)
		if !decode(wire, m, types) {
			return // not an Order on the wire
		}
		written, err := (protojson.MarshalOptions{Resolver: types, EmitDefaultValues: true}).Marshal(m)
		if err != nil {
			return // protojson refuses it (an Any of an unknown type, a NaN in a Value): a tool error, not output
		}
		if err := validate(t, schema, string(written)); err != nil {
			t.Fatalf("protojson wrote what the output schema refuses: %v\n%s", err, written)
		}
	})
}

// decode reads wire into m as the source's guarded codec does: the protobuf runtime
// panics on some malformed input (the corpus keeps one), which the source turns into
// an error (grpcsource.TestMalformedResponseIsAToolErrorNotACrash).
func decode(wire []byte, m *dynamicpb.Message, types *dynamicpb.Types) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return (proto.UnmarshalOptions{Resolver: types}).Unmarshal(wire, m) == nil
}
