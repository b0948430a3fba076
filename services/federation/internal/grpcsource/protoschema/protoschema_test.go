package protoschema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/protoschema"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/schematest"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

var update = flag.Bool("update", false, "rewrite the golden schemas")

func message(t testing.TB, name string) protoreflect.MessageDescriptor {
	t.Helper()
	return messageIn(t, shoptest.Files(t), name)
}

func messageIn(t testing.TB, files *protoregistry.Files, name string) protoreflect.MessageDescriptor {
	t.Helper()
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatal(err)
	}
	return d.(protoreflect.MessageDescriptor)
}

func compile(t testing.TB, doc map[string]any) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return schematest.Compile(t, raw)
}

func validate(t testing.TB, s *jsonschema.Schema, instance string) error {
	t.Helper()
	return schematest.Validate(t, s, []byte(instance))
}

func golden(t *testing.T, name string, doc map[string]any) {
	t.Helper()
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated schema (go test -update rewrites it):\n%s", path, got)
	}
}

func TestGoldenSchemas(t *testing.T) {
	for _, tc := range []struct {
		message, file string
		mode          protoschema.Mode
	}{
		{"acme.shop.v1.Order", "order.input.json", protoschema.Input},
		{"acme.shop.v1.Order", "order.output.json", protoschema.Output},
		{"acme.shop.v1.Category", "category.input.json", protoschema.Input},
		{"google.protobuf.Empty", "empty.input.json", protoschema.Input},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := protoschema.ForMessage(message(t, tc.message), tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			compile(t, doc)
			golden(t, tc.file, doc)
		})
	}
	t.Run("stream", func(t *testing.T) {
		doc := protoschema.ForStream(message(t, "acme.shop.v1.OrderEvent"))
		compile(t, doc)
		golden(t, "orderevent.stream.json", doc)
	})
}

// fullOrder sets every field of Order, in protojson's canonical form.
const fullOrder = `{
  "id": "o-1", "status": "STATUS_PAID", "totalCents": "12345", "quantity": 3,
  "weight": 1.5, "ratio": "NaN", "gift": true, "signature": "c2lnbmVk",
  "tags": ["a", "b"], "stock": {"berlin": 4}, "linesByNumber": {"7": {"sku": "x", "kind": "KIND_GOODS"}},
  "card": {"number": "4111", "expiryMonth": 12},
  "createdAt": "2026-01-02T03:04:05Z", "ttl": "1.500s",
  "attributes": {"k": [1, "two", null]}, "note": 42, "history": [true, {"x": 1}],
  "discount": "-5", "coupon": "SPRING", "mask": "id,totalCents",
  "extra": {"@type": "type.googleapis.com/acme.shop.v1.Card", "number": "5500"},
  "category": {"name": "root", "children": [{"name": "leaf", "shelf": {"category": {"name": "deep"}}}]},
  "comment": "", "firstKind": "KIND_SHIPPING", "offset": "-9", "checksum": 7, "etag": "e1",
  "lines": [{"sku": "y"}]
}`

func TestSchemasAgreeWithProtojson(t *testing.T) {
	files := shoptest.Files(t)
	types := dynamicpb.NewTypes(files)
	order := message(t, "acme.shop.v1.Order")
	in, err := protoschema.ForMessage(order, protoschema.Input)
	if err != nil {
		t.Fatal(err)
	}
	out, err := protoschema.ForMessage(order, protoschema.Output)
	if err != nil {
		t.Fatal(err)
	}
	input, output := compile(t, in), compile(t, out)

	if err := validate(t, input, fullOrder); err != nil {
		t.Fatalf("a full order does not match the input schema: %v", err)
	}
	msg := dynamicpb.NewMessage(order)
	if err := (protojson.UnmarshalOptions{Resolver: types}).Unmarshal([]byte(fullOrder), msg); err != nil {
		t.Fatalf("protojson rejects what the schema admits: %v", err)
	}
	// The source writes responses with EmitDefaultValues; EmitUnpopulated (nulls for
	// unset messages) is not used.
	for _, opts := range []protojson.MarshalOptions{{Resolver: types}, {Resolver: types, EmitDefaultValues: true}} {
		written, err := opts.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, output, string(written)); err != nil {
			t.Errorf("protojson output (%+v) does not match the output schema: %v\n%s", opts, err, written)
		}
	}

	for name, bad := range map[string]string{
		"two members of a oneof": `{"id": "o", "card": {}, "voucherCode": "v"}`,
		"required id missing":    `{"status": "STATUS_OPEN"}`,
		"unknown enum name":      `{"id": "o", "status": "STATUS_LOST"}`,
		"unknown field":          `{"id": "o", "colour": "red"}`,
		"int64 not a number":     `{"id": "o", "totalCents": "12.5"}`,
		"bad duration":           `{"id": "o", "ttl": "5 minutes"}`,
		"Any without @type":      `{"id": "o", "extra": {"number": "1"}}`,
		"map key not an integer": `{"id": "o", "linesByNumber": {"seven": {}}}`,
		"deep recursion typo":    `{"id": "o", "category": {"children": [{"shelf": {"category": {"nam": "x"}}}]}}`,
	} {
		if validate(t, input, bad) == nil {
			t.Errorf("%s: the input schema admits %s", name, bad)
		}
	}
}

func TestNonObjectRootIsRefused(t *testing.T) {
	if _, err := protoschema.ForMessage(message(t, "google.protobuf.Timestamp"), protoschema.Input); err == nil {
		t.Error("Timestamp as a tool's arguments: no error")
	}
}

func TestCommentsBecomeDescriptions(t *testing.T) {
	doc, err := protoschema.ForMessage(message(t, "acme.shop.v1.Order"), protoschema.Input)
	if err != nil {
		t.Fatal(err)
	}
	if doc["description"] != "An order in the shop." {
		t.Errorf("message description %q", doc["description"])
	}
	props := doc["properties"].(map[string]any)
	card := props["card"].(map[string]any)
	if d := card["description"].(string); !strings.HasPrefix(d, "Paid by card.") || !strings.Contains(d, "set at most one of card, voucherCode") {
		t.Errorf("card description %q", d)
	}
}
