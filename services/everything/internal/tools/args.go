package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeArgs decodes a tool's JSON arguments into v. Empty arguments and JSON null mean
// "no arguments". strict rejects arguments the schema does not name.
func decodeArgs(args []byte, v any, strict bool) error {
	trimmed := bytes.TrimSpace(args)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	if !strict {
		return json.Unmarshal(trimmed, v)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("arguments are not valid JSON")
	}
	return nil
}

// invalidArgs is the isError result for arguments that fail to decode or validate.
func invalidArgs(call *Call, err error) (Outcome, error) {
	return errorResult(fmt.Sprintf("Invalid arguments for tool %s: %s", call.Name, describeArgError(err)))
}

// missing is the validation error for an absent required argument.
func missing(name string) error { return fmt.Errorf("argument %q is required", name) }

// describeArgError turns a decoding error into a sentence a model can act on.
func describeArgError(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return "arguments are not valid JSON"
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "arguments must be a JSON object"
		}
		return fmt.Sprintf("argument %q must be %s, not %s", typeErr.Field, kindName(typeErr.Type), typeErr.Value)
	default:
		return strings.TrimPrefix(err.Error(), "json: ")
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
