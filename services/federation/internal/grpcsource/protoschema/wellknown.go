package protoschema

import (
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wellKnown is the schema of a well-known type that protojson maps specially, or nil.
func wellKnown(md protoreflect.MessageDescriptor, mode Mode) map[string]any {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return map[string]any{"type": "string", "format": "date-time",
			"description": "An RFC 3339 timestamp in UTC, such as 2026-01-02T03:04:05Z."}
	case "google.protobuf.Duration":
		return map[string]any{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]{1,9})?s$`,
			"description": "A duration in seconds with an s suffix, such as 1.5s."}
	case "google.protobuf.Struct":
		return map[string]any{"type": "object"}
	case "google.protobuf.Value":
		return map[string]any{}
	case "google.protobuf.ListValue":
		return map[string]any{"type": "array"}
	case "google.protobuf.Empty":
		return map[string]any{"type": "object", "additionalProperties": false}
	case "google.protobuf.FieldMask":
		return map[string]any{"type": "string", "description": "Field paths in lowerCamelCase, separated by commas."}
	case "google.protobuf.Any":
		s := map[string]any{"type": "object",
			"properties":  map[string]any{"@type": map[string]any{"type": "string"}},
			"description": "Any message, named by its @type URL (type.googleapis.com/<full name>), with its fields beside @type."}
		if mode == Input {
			s["required"] = []string{"@type"} // an empty Any is written as {}, but is no use as an argument
		}
		return s
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
		return scalar(protoreflect.DoubleKind)
	case "google.protobuf.Int64Value":
		return scalar(protoreflect.Int64Kind)
	case "google.protobuf.UInt64Value":
		return scalar(protoreflect.Uint64Kind)
	case "google.protobuf.Int32Value":
		return scalar(protoreflect.Int32Kind)
	case "google.protobuf.UInt32Value":
		return scalar(protoreflect.Uint32Kind)
	case "google.protobuf.BoolValue":
		return scalar(protoreflect.BoolKind)
	case "google.protobuf.StringValue":
		return scalar(protoreflect.StringKind)
	case "google.protobuf.BytesValue":
		return scalar(protoreflect.BytesKind)
	}
	return nil
}

// IsObject reports whether protojson writes md as a JSON object.
func IsObject(md protoreflect.MessageDescriptor) bool {
	s := wellKnown(md, Output)
	return s == nil || s["type"] == "object"
}
