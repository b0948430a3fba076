package provider

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
)

// inputSchema derives a tool's input schema from In, which must be a struct or a map
// (MCP wants an object); a struct field without omitempty is required, and the tag
// `jsonschema:"..."` describes it.
func inputSchema[In any]() (json.RawMessage, error) {
	t := reflect.TypeFor[In]()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
		return nil, fmt.Errorf("the input type %s is not a struct or a map: MCP tool arguments are a JSON object", t)
	}
	return schemaOf(t)
}

// outputSchema derives a tool's output schema from Out: none for a string or *Result
// (their results are content blocks only); else Out must be a struct or a map.
func outputSchema[Out any]() (json.RawMessage, error) {
	t := reflect.TypeFor[Out]()
	if t == reflect.TypeFor[string]() || t == reflect.TypeFor[*Result]() {
		return nil, nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
		return nil, fmt.Errorf("the output type %s is not a string, *provider.Result, struct or map: structured content is a JSON object", t)
	}
	return schemaOf(t)
}

func schemaOf(t reflect.Type) (json.RawMessage, error) {
	s, err := jsonschema.ForType(t, &jsonschema.ForOptions{})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return b, nil
}
