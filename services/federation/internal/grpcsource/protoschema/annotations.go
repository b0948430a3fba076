package protoschema

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldBehaviorNumber is the extension google.api.field_behavior on FieldOptions, and
// fieldRequired and fieldOutputOnly its values REQUIRED and OUTPUT_ONLY. They are read
// from the wire form of the options, so the annotation counts whether or not this
// binary links the googleapis Go types (dynamic descriptors keep it as an unknown field).
const (
	fieldBehaviorNumber = 1052
	fieldRequired       = 2
	fieldOutputOnly     = 3
)

type behaviors struct{ required, outputOnly bool }

func behaviorsOf(fd protoreflect.FieldDescriptor) behaviors {
	var b behaviors
	opts := fd.Options()
	if opts == nil {
		return b
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(opts)
	if err != nil {
		return b
	}
	mark := func(v uint64) {
		switch v {
		case fieldRequired:
			b.required = true
		case fieldOutputOnly:
			b.outputOnly = true
		}
	}
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return b
		}
		raw = raw[n:]
		switch {
		case num == fieldBehaviorNumber && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(raw)
			if m < 0 {
				return b
			}
			mark(v)
			n = m
		case num == fieldBehaviorNumber && typ == protowire.BytesType: // packed
			packed, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return b
			}
			for len(packed) > 0 {
				v, k := protowire.ConsumeVarint(packed)
				if k < 0 {
					break
				}
				mark(v)
				packed = packed[k:]
			}
			n = m
		default:
			n = protowire.ConsumeFieldValue(num, typ, raw)
		}
		if n < 0 {
			return b
		}
		raw = raw[n:]
	}
	return b
}

// comment is the proto comment of a declaration: leading, else trailing; "" without
// source info.
func comment(d protoreflect.Descriptor) string {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	text := loc.LeadingComments
	if strings.TrimSpace(text) == "" {
		text = loc.TrailingComments
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// Comment is the proto comment of a declaration, for tool descriptions.
func Comment(d protoreflect.Descriptor) string { return comment(d) }

// oneofConstraints forbids the other members of each oneof once one is present.
func oneofConstraints(md protoreflect.MessageDescriptor) map[string]any {
	dep := map[string]any{}
	oneofs := md.Oneofs()
	for i := range oneofs.Len() {
		od := oneofs.Get(i)
		if od.IsSynthetic() || od.Fields().Len() < 2 {
			continue
		}
		fields := od.Fields()
		for j := range fields.Len() {
			others := map[string]any{}
			for k := range fields.Len() {
				if k != j {
					others[fields.Get(k).JSONName()] = false
				}
			}
			dep[fields.Get(j).JSONName()] = map[string]any{"properties": others}
		}
	}
	return dep
}

// oneofNote tells a reader of the schema that a field is one of alternatives.
func oneofNote(od protoreflect.OneofDescriptor) string {
	names := make([]string, 0, od.Fields().Len())
	for i := range od.Fields().Len() {
		names = append(names, od.Fields().Get(i).JSONName())
	}
	return fmt.Sprintf("One of %s: set at most one of %s.", od.Name(), strings.Join(names, ", "))
}
