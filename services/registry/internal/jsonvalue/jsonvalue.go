// Package jsonvalue converts between the raw JSON bytes that travel inside the mesh and
// the google.protobuf.Struct values that REST callers see through grpc-gateway.
package jsonvalue

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// ErrNotObject means the JSON is valid but not an object.
var ErrNotObject = errors.New("JSON value is not an object")

// ErrNotArray means the JSON is valid but not an array.
var ErrNotArray = errors.New("JSON value is not an array")

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

// List parses a JSON array. Empty input is "absent" and gives nil.
func List(raw []byte) (*structpb.ListValue, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v structpb.Value
	if err := protojson.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("parse JSON array: %w", err)
	}
	l := v.GetListValue()
	if l == nil {
		return nil, ErrNotArray
	}
	return l, nil
}

// ObjectBytes renders s as a JSON object; nil renders as {}.
func ObjectBytes(s *structpb.Struct) ([]byte, error) {
	if s == nil {
		return []byte("{}"), nil
	}
	b, err := protojson.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("render JSON object: %w", err)
	}
	return b, nil
}
