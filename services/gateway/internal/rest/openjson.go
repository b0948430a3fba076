package rest

import (
	"encoding/json"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

// openJSONFields are the bytes fields that carry a JSON document (inside the mesh open
// JSON travels as raw bytes, see ARCHITECTURE.md), per message. protojson would write
// them as base64; the REST API writes them as the JSON they hold, as
// proto/mcpmesh/mcpmesh_openapi.yaml declares in the OpenAPI document.
var openJSONFields = map[protoreflect.FullName][]protoreflect.Name{
	(&sessionv1.Session{}).ProtoReflect().Descriptor().FullName(): {"client_info", "client_capabilities"},
}

// openJSONMarshaler is rawJSON, except that the fields of openJSONFields inside a
// response message come out as JSON values instead of base64 strings.
type openJSONMarshaler struct {
	*rawJSON
}

// Marshal writes v with rawJSON (protojson), then replaces each open-JSON field by its
// JSON. A field whose bytes are not valid JSON keeps protojson's base64.
func (m openJSONMarshaler) Marshal(v any) ([]byte, error) {
	out, err := m.rawJSON.Marshal(v)
	msg, ok := v.(proto.Message)
	if err != nil || !ok || !carriesOpenJSON(msg.ProtoReflect().Descriptor()) {
		return out, err
	}
	var doc any
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("rewrite open JSON fields: %w", err)
	}
	doc = m.rewrite(msg.ProtoReflect(), doc)
	return json.Marshal(doc)
}

// rewrite walks the message and its JSON side by side (singular message fields only:
// the open-JSON fields live in such a tree).
func (m openJSONMarshaler) rewrite(msg protoreflect.Message, doc any) any {
	obj, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	fields := msg.Descriptor().Fields()
	for _, name := range openJSONFields[msg.Descriptor().FullName()] {
		fd := fields.ByName(name)
		if fd == nil || fd.Kind() != protoreflect.BytesKind {
			continue
		}
		key := m.jsonKey(fd)
		raw := msg.Get(fd).Bytes()
		if _, present := obj[key]; present && json.Valid(raw) {
			obj[key] = json.RawMessage(raw)
		}
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() || !msg.Has(fd) {
			continue
		}
		if sub, present := obj[m.jsonKey(fd)]; present {
			obj[m.jsonKey(fd)] = m.rewrite(msg.Get(fd).Message(), sub)
		}
	}
	return obj
}

func (m openJSONMarshaler) jsonKey(fd protoreflect.FieldDescriptor) string {
	if m.UseProtoNames {
		return string(fd.Name())
	}
	return fd.JSONName()
}

// openJSONTypes caches hasOpenJSON per response type.
var openJSONTypes sync.Map // protoreflect.FullName -> bool

// carriesOpenJSON is hasOpenJSON, cached.
func carriesOpenJSON(d protoreflect.MessageDescriptor) bool {
	if v, ok := openJSONTypes.Load(d.FullName()); ok {
		return v.(bool)
	}
	has := hasOpenJSON(d, map[protoreflect.FullName]bool{})
	openJSONTypes.Store(d.FullName(), has)
	return has
}

// hasOpenJSON reports whether d or a message under it has open-JSON fields, so that
// every other response is written by protojson alone.
func hasOpenJSON(d protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[d.FullName()] {
		return false
	}
	seen[d.FullName()] = true
	if len(openJSONFields[d.FullName()]) > 0 {
		return true
	}
	fields := d.Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && hasOpenJSON(fd.Message(), seen) {
			return true
		}
	}
	return false
}
