package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// DecodeArguments decodes a tool's JSON arguments into v; empty arguments and JSON
// null mean none. Its errors are sentences a model can act on.
func DecodeArguments(args json.RawMessage, v any) error {
	trimmed := bytes.TrimSpace(args)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	return describeArgError(json.Unmarshal(trimmed, v))
}

// DecodeArgumentsStrictly is DecodeArguments that also rejects properties v does not
// name (for schemas with additionalProperties false).
func DecodeArgumentsStrictly(args json.RawMessage, v any) error {
	trimmed := bytes.TrimSpace(args)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeArgError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("arguments are not valid JSON")
	}
	return nil
}

// describeArgError turns a decoding error into a sentence.
func describeArgError(err error) error {
	if err == nil {
		return nil // before the targets of errors.As, which escape: no allocation per call
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("arguments are not valid JSON")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return errors.New("arguments must be a JSON object")
		}
		return fmt.Errorf("argument %q must be %s, not %s", typeErr.Field, kindName(typeErr.Type), typeErr.Value)
	default:
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
}

// kindName names a Go type the way a JSON Schema would.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a valid value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a valid value"
	}
}
