// Package schematest compiles and applies JSON Schemas in tests, with the library and
// settings the session validates tool arguments with: JSON Schema 2020-12 (compiling
// also checks a schema against the draft's metaschema), no references outside the
// document.
package schematest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const url = "urn:test:schema"

type noLoader struct{}

func (noLoader) Load(string) (any, error) {
	return nil, errors.New("references outside the schema are not resolved")
}

// Compile compiles raw, failing the test when it is not a valid 2020-12 schema.
func Compile(t testing.TB, raw []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("not a valid JSON Schema 2020-12: %v", err)
	}
	return s
}

// Validate applies s to the JSON instance; nil when it conforms.
func Validate(t testing.TB, s *jsonschema.Schema, instance []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(instance))
	if err != nil {
		t.Fatalf("instance is not JSON: %v", err)
	}
	return s.Validate(v)
}
