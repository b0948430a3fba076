// Package jsonvalue converts the raw JSON bytes that travel inside the mesh into the
// google.protobuf.Struct values of the REST listings (tool schemas and annotations in
// ToolView), which the registry (control plane) and the session service (REST callers)
// both serve.
package jsonvalue

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// ErrNotObject means the JSON is valid but not an object.
var ErrNotObject = errors.New("JSON value is not an object")

// Struct parses a JSON object. Empty input is "absent" and gives nil.
func Struct(raw []byte) (*structpb.Struct, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v structpb.Value
	if err := protojson.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("parse JSON object: %w", err)
	}
	s := v.GetStructValue()
	if s == nil {
		return nil, ErrNotObject
	}
	return s, nil
}
