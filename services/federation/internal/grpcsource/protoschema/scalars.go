package protoschema

import (
	"math"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// int64Pattern and uint64Pattern check the decimal strings protojson writes for 64-bit
// integers (pattern applies to strings only; integers pass as they are).
const (
	int64Pattern  = `^-?[0-9]+$`
	uint64Pattern = `^[0-9]+$`
)

// scalar is the schema of a non-message, non-enum value.
func scalar(k protoreflect.Kind) map[string]any {
	switch k {
	case protoreflect.BoolKind:
		return map[string]any{"type": "boolean"}
	case protoreflect.StringKind:
		return map[string]any{"type": "string"}
	case protoreflect.BytesKind:
		return map[string]any{"type": "string", "contentEncoding": "base64"}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return map[string]any{"type": "integer", "minimum": math.MinInt32, "maximum": math.MaxInt32}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return map[string]any{"type": "integer", "minimum": 0, "maximum": math.MaxUint32}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return map[string]any{"type": []string{"string", "integer"}, "pattern": int64Pattern,
			"description": "A 64-bit integer; protojson writes it as a decimal string."}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return map[string]any{"type": []string{"string", "integer"}, "pattern": uint64Pattern, "minimum": 0,
			"description": "An unsigned 64-bit integer; protojson writes it as a decimal string."}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return map[string]any{"type": []string{"number", "string"}, "pattern": `^(NaN|-?Infinity)$`}
	}
	return map[string]any{}
}

// enum is the schema of an enum value: one of its names. protojson writes a number
// the descriptors do not name (an open enum's value from a newer service) as that
// number, so an output schema admits integers too.
func enum(ed protoreflect.EnumDescriptor, mode Mode) map[string]any {
	if ed.FullName() == "google.protobuf.NullValue" {
		return map[string]any{"type": "null"}
	}
	values := ed.Values()
	names := make([]string, 0, values.Len())
	for i := range values.Len() {
		names = append(names, string(values.Get(i).Name()))
	}
	s := map[string]any{"type": "string", "enum": names}
	if mode == Output {
		s = map[string]any{"anyOf": []any{s, map[string]any{"type": "integer", "description": "A value the service's descriptors do not name."}}}
	}
	if d := comment(ed); d != "" {
		s["description"] = d
	}
	return s
}

// mapKeyNames constrains the property names of a map to the keys protojson writes.
func mapKeyNames(k protoreflect.Kind) map[string]any {
	switch k {
	case protoreflect.BoolKind:
		return map[string]any{"enum": []string{"true", "false"}}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return map[string]any{"pattern": int64Pattern}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return map[string]any{"pattern": uint64Pattern}
	}
	return nil
}
