package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// rawJSON is the REST API's marshaler: protojson (camelCase names, unpopulated fields
// left out, unknown fields discarded), except where a bytes field carries MCP JSON,
// which the mesh keeps as raw bytes end to end:
//   - a bytes response body (the response_body of an HTTP rule: the MCP result of a
//     tool call, resource read or prompt) is written as the JSON it holds, not as
//     base64;
//   - in a request body, a bytes field takes any JSON value as it is written (the
//     arguments of a tool call), not base64.
type rawJSON struct {
	runtime.JSONPb
}

// errNotObject is what a caller reads (as a 400) when a call's body is no JSON object.
var errNotObject = errors.New("request body must be a JSON object")

func newRawJSON() *rawJSON {
	return &rawJSON{JSONPb: runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: false, UseProtoNames: false},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
	}}
}

// Marshal writes a bytes response body as it is; the session service only puts JSON
// objects there.
func (m *rawJSON) Marshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		if len(b) == 0 {
			return []byte("{}"), nil
		}
		return b, nil
	}
	return m.JSONPb.Marshal(v)
}

// NewDecoder decodes request bodies; messages with bytes fields take them as JSON.
func (m *rawJSON) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		msg, ok := v.(proto.Message)
		if !ok || !hasBytesField(msg.ProtoReflect().Descriptor()) {
			return m.JSONPb.NewDecoder(r).Decode(v)
		}
		return m.decodeRaw(r, msg)
	})
}

func hasBytesField(d protoreflect.MessageDescriptor) bool {
	fields := d.Fields()
	for i := range fields.Len() {
		if f := fields.Get(i); f.Kind() == protoreflect.BytesKind && f.Cardinality() != protoreflect.Repeated {
			return true
		}
	}
	return false
}

// decodeRaw takes the bytes fields out of the body object as raw JSON and decodes the
// rest with protojson.
func (m *rawJSON) decodeRaw(r io.Reader, msg proto.Message) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return io.EOF // no body: like the protojson decoder, the caller keeps defaults
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return errNotObject
	}
	refl := msg.ProtoReflect()
	fields := refl.Descriptor().Fields()
	raws := map[protoreflect.FieldDescriptor]json.RawMessage{}
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Kind() != protoreflect.BytesKind || f.Cardinality() == protoreflect.Repeated {
			continue
		}
		for _, name := range []string{f.JSONName(), string(f.Name())} {
			if raw, ok := members[name]; ok {
				delete(members, name)
				if !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
					raws[f] = raw
				}
			}
		}
	}
	rest, err := json.Marshal(members)
	if err != nil {
		return err
	}
	// protojson resets msg first, so the raw fields are set after it.
	if err := m.UnmarshalOptions.Unmarshal(rest, msg); err != nil {
		return err
	}
	for f, raw := range raws {
		refl.Set(f, protoreflect.ValueOfBytes(raw))
	}
	return nil
}
