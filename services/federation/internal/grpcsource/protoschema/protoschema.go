// Package protoschema derives JSON Schemas (2020-12) from protobuf message descriptors,
// following the protojson mapping: what a schema admits is what protojson reads, and
// what protojson writes conforms to it.
//
// The shapes:
//   - every message type except the root and the well-known types is a $defs entry
//     named by its full name and referred to with $ref, so a recursive type (directly
//     or through others) is a reference, never an endless expansion; the root message
//     refers to itself with "#";
//   - 64-bit integers are strings or integers (protojson writes strings, reads both);
//     floats are numbers or "NaN", "Infinity", "-Infinity"; bytes are base64 strings;
//   - enums are their value names (output schemas also admit the numbers protojson
//     writes for values the descriptors do not name); google.protobuf.NullValue is null;
//   - maps are objects whose property names are the keys as protojson writes them;
//   - a oneof's members are ordinary optional properties, and dependentSchemas
//     forbids the others when one is present: at most one is set, as in protojson
//     (each member's description says so);
//   - google.protobuf.Timestamp is an RFC 3339 date-time string and Duration a
//     string such as "1.5s"; Struct is any object, Value any JSON value, ListValue
//     any array; wrappers are their wrapped value; Any is an object with "@type";
//     FieldMask is a string of comma-separated paths; Empty is an empty object;
//   - fields annotated (google.api.field_behavior) = REQUIRED (or proto2 required)
//     are required in input schemas, OUTPUT_ONLY fields are readOnly there;
//   - descriptions are the proto comments, when the descriptors carry source info.
package protoschema

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Mode says whether a schema describes a request (what a caller sends) or a response.
type Mode int

const (
	// Input schemas require REQUIRED fields and mark OUTPUT_ONLY ones readOnly.
	Input Mode = iota
	// Output schemas require nothing: protojson leaves out unset message fields.
	Output
)

// Generator builds one schema document; its $defs collect the message types that
// the document refers to. It is not safe for concurrent use.
type Generator struct {
	mode Mode
	// root is the message inlined at the top of the document ("" for none): references
	// to it are "#".
	root protoreflect.FullName
	defs map[string]any
}

// ForMessage returns the schema of md as a document whose top level is md itself.
// It fails when protojson does not write md as a JSON object (google.protobuf.Value,
// Timestamp and the like), because a tool's schemas must describe objects.
func ForMessage(md protoreflect.MessageDescriptor, mode Mode) (map[string]any, error) {
	if !IsObject(md) {
		return nil, fmt.Errorf("%s is not a JSON object in the protojson mapping", md.FullName())
	}
	g := &Generator{mode: mode, root: md.FullName(), defs: map[string]any{}}
	doc := g.object(md)
	return g.document(doc), nil
}

// ForStream returns the schema of the aggregate result of a server-streaming method:
// an object whose "messages" lists every message received.
func ForStream(md protoreflect.MessageDescriptor) map[string]any {
	g := &Generator{mode: Output, defs: map[string]any{}}
	doc := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"messages": map[string]any{
				"type":        "array",
				"description": "Every message of the stream, in order.",
				"items":       g.message(md),
			},
			"truncated": map[string]any{
				"type":        "boolean",
				"description": "True when the stream was cut short at the mesh's limit of messages or bytes.",
			},
		},
		"required":             []string{"messages"},
		"additionalProperties": false,
	}
	return g.document(doc)
}

func (g *Generator) document(doc map[string]any) map[string]any {
	if len(g.defs) > 0 {
		doc["$defs"] = g.defs
	}
	return doc
}

// message is the schema of a message-typed value: inline for a well-known type,
// else a reference.
func (g *Generator) message(md protoreflect.MessageDescriptor) map[string]any {
	if s := wellKnown(md, g.mode); s != nil {
		return s
	}
	if md.FullName() == g.root {
		return map[string]any{"$ref": "#"}
	}
	name := string(md.FullName())
	if _, done := g.defs[name]; !done {
		g.defs[name] = nil // claimed before building, so a cycle ends at the reference
		g.defs[name] = g.object(md)
	}
	return map[string]any{"$ref": "#/$defs/" + name}
}

// object is the schema of a message as a JSON object.
func (g *Generator) object(md protoreflect.MessageDescriptor) map[string]any {
	if s := wellKnown(md, g.mode); s != nil {
		return s
	}
	props := map[string]any{}
	var required []string
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		s := g.field(fd)
		b := behaviorsOf(fd)
		if g.mode == Input && b.outputOnly {
			s["readOnly"] = true
		}
		if g.mode == Input && (b.required || fd.Cardinality() == protoreflect.Required) {
			required = append(required, fd.JSONName())
		}
		props[fd.JSONName()] = s
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	if dep := oneofConstraints(md); len(dep) > 0 {
		out["dependentSchemas"] = dep
	}
	if d := comment(md); d != "" {
		out["description"] = d
	}
	return out
}

// field is the schema of one field, with its description.
func (g *Generator) field(fd protoreflect.FieldDescriptor) map[string]any {
	var s map[string]any
	switch {
	case fd.IsMap():
		s = map[string]any{"type": "object", "additionalProperties": g.singular(fd.MapValue())}
		if names := mapKeyNames(fd.MapKey().Kind()); names != nil {
			s["propertyNames"] = names
		}
	case fd.IsList():
		s = map[string]any{"type": "array", "items": g.singular(fd)}
	default:
		s = g.singular(fd)
	}
	var notes []string
	if d := comment(fd); d != "" {
		notes = append(notes, d)
	}
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		notes = append(notes, oneofNote(od))
	}
	if len(notes) > 0 {
		if _, isRef := s["$ref"]; !isRef {
			if d, ok := s["description"].(string); ok && d != "" {
				notes = append(notes, d)
			}
		}
		s["description"] = strings.Join(notes, "\n\n")
	}
	return s
}

// singular is the schema of one value of a field (an element of a list, a map value).
func (g *Generator) singular(fd protoreflect.FieldDescriptor) map[string]any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return g.message(fd.Message())
	case protoreflect.EnumKind:
		return enum(fd.Enum(), g.mode)
	default:
		return scalar(fd.Kind())
	}
}
