package mcpjson

import (
	"encoding/json"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonenc"
	"math"
	"strconv"
)

// Object appends the members of one JSON object to a byte slice. Keys are trusted
// constants; values are raw JSON or strings that Object escapes.
type Object struct {
	buf   []byte
	empty bool
}

// NewObject starts an object, reusing buf's capacity.
func NewObject(buf []byte) *Object {
	return &Object{buf: append(buf[:0], '{'), empty: true}
}

func (o *Object) key(k string) {
	if !o.empty {
		o.buf = append(o.buf, ',')
	}
	o.empty = false
	o.buf = append(o.buf, '"')
	o.buf = append(o.buf, k...)
	o.buf = append(o.buf, '"', ':')
}

// Raw adds a member whose value is already JSON.
func (o *Object) Raw(k string, v []byte) *Object {
	o.key(k)
	o.buf = append(o.buf, v...)
	return o
}

// RawIf adds a member only when v is not empty.
func (o *Object) RawIf(k string, v []byte) *Object {
	if len(v) > 0 {
		o.Raw(k, v)
	}
	return o
}

// Array adds an array member of n raw JSON items, written straight into the object
// (no intermediate buffer).
func (o *Object) Array(k string, n int, item func(i int) []byte) *Object {
	o.key(k)
	o.buf = append(o.buf, '[')
	for i := range n {
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		o.buf = append(o.buf, item(i)...)
	}
	o.buf = append(o.buf, ']')
	return o
}

// String adds a string member.
func (o *Object) String(k, v string) *Object {
	o.key(k)
	o.buf = jsonenc.AppendString(o.buf, v)
	return o
}

// StringIf adds a string member only when v is not empty.
func (o *Object) StringIf(k, v string) *Object {
	if v != "" {
		o.String(k, v)
	}
	return o
}

// Int adds an integer member.
func (o *Object) Int(k string, v int64) *Object {
	o.key(k)
	o.buf = strconv.AppendInt(o.buf, v, 10)
	return o
}

// Float adds a number member. NaN and infinities, which JSON cannot carry, become 0.
func (o *Object) Float(k string, v float64) *Object {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	o.key(k)
	o.buf = strconv.AppendFloat(o.buf, v, 'g', -1, 64)
	return o
}

// Bool adds a boolean member.
func (o *Object) Bool(k string, v bool) *Object {
	o.key(k)
	o.buf = strconv.AppendBool(o.buf, v)
	return o
}

// Bytes closes the object and returns it.
func (o *Object) Bytes() []byte {
	return append(o.buf, '}')
}

// Kind returns the JSON kind of a raw value by its first non-space byte: one of
// '{', '[', '"', 'n' (null), 't'/'f' (booleans), '0' (numbers), or 0 when empty.
func Kind(v json.RawMessage) byte {
	for _, c := range v {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[', '"', 'n', 't', 'f':
			return c
		default:
			return '0'
		}
	}
	return 0
}

// IsObject reports whether v is a JSON object (by its first byte; v is assumed valid).
func IsObject(v json.RawMessage) bool { return Kind(v) == '{' }
