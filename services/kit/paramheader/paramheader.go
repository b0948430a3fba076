// Package paramheader implements the custom headers of MCP 2026-07-28 (SEP-2243): a
// tool's inputSchema may annotate arguments with x-mcp-header, and HTTP clients mirror
// those arguments into Mcp-Param-{Name} headers, encoded as "=?base64?...?=" when the
// value is not plain header-safe ASCII. Clients (the stdio bridge) use Bindings and
// Encode to set the headers; servers (the session service) use Bindings and Check to
// refuse a request whose headers and body disagree.
package paramheader

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Prefix starts the headers that mirror annotated tool arguments.
const Prefix = "Mcp-Param-"

// The sentinel around a Base64-encoded value.
const (
	b64Prefix = "=?base64?"
	b64Suffix = "?="
)

// Binding mirrors the tool argument at Path into the header Mcp-Param-{Header}.
type Binding struct {
	Path   []string
	Header string
}

// schemaNode is the part of a JSON Schema that x-mcp-header annotations live in.
type schemaNode struct {
	Type       json.RawMessage            `json:"type"`
	XMCPHeader json.RawMessage            `json:"x-mcp-header"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// Bindings collects the annotations of an inputSchema reachable from its root through
// "properties" only, in a stable order. ok is false when an annotation is not a valid
// header name, repeats another one (case-insensitively) or sits on a property whose
// type is not string, integer or boolean: such a tool definition is invalid and gets no
// bindings at all. A schema without annotations has none (and is valid).
func Bindings(schema json.RawMessage) (bindings []Binding, ok bool) {
	if !bytes.Contains(schema, []byte("x-mcp-header")) {
		return nil, true // the common case, without decoding
	}
	var root schemaNode
	if json.Unmarshal(schema, &root) != nil {
		return nil, true
	}
	ok = true
	seen := map[string]bool{}
	var walk func(props map[string]json.RawMessage, prefix []string)
	walk = func(props map[string]json.RawMessage, prefix []string) {
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			var n schemaNode
			if json.Unmarshal(props[name], &n) != nil {
				continue
			}
			path := append(slices.Clone(prefix), name)
			if len(n.XMCPHeader) > 0 {
				header, isString := jsonString(n.XMCPHeader)
				key := strings.ToLower(header)
				if !isString || header == "" || !ValidName(header) || seen[key] || !headerType(n.Type) {
					ok = false
				} else {
					seen[key] = true
					bindings = append(bindings, Binding{Path: path, Header: header})
				}
			}
			walk(n.Properties, path)
		}
	}
	walk(root.Properties, nil)
	if !ok {
		return nil, false
	}
	return bindings, true
}

// Value renders the argument the binding names, as the header carries it before
// encoding: strings as they are, integers in decimal, booleans as true or false.
// found is false when the arguments have no such value (or null, or a value of another
// kind): then no header is sent.
func (b Binding) Value(args map[string]json.RawMessage) (value string, found bool) {
	cur, ok := args[b.Path[0]]
	for _, part := range b.Path[1:] {
		if !ok {
			return "", false
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(cur, &obj) != nil {
			return "", false
		}
		cur, ok = obj[part]
	}
	if !ok {
		return "", false
	}
	return scalar(cur)
}

// scalar renders a string, integer or boolean argument as the spec says; other values
// (numbers with fractions, null, objects, arrays) are not mirrored.
func scalar(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return "", false
	case raw[0] == '"':
		return jsonString(raw)
	case string(raw) == "true" || string(raw) == "false":
		return string(raw), true
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		if bytes.ContainsAny(raw, ".eE") {
			return "", false
		}
		return string(raw), true
	}
	return "", false
}

// headerType reports whether a property of this JSON Schema type may be mirrored.
func headerType(t json.RawMessage) bool {
	if len(t) == 0 {
		return true // untyped: the value decides at call time
	}
	s, ok := jsonString(t)
	return ok && (s == "string" || s == "integer" || s == "boolean")
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// ValidName reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func ValidName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// Encode applies the value encoding: a value that is not plain header-safe ASCII, or
// that looks like the sentinel itself, travels as "=?base64?<standard base64>?=".
func Encode(v string) string {
	if safe(v) && (!strings.HasPrefix(v, b64Prefix) || !strings.HasSuffix(v, b64Suffix)) {
		return v
	}
	return b64Prefix + base64.StdEncoding.EncodeToString([]byte(v)) + b64Suffix
}

// safe reports whether v can be a header value as it is: visible ASCII and inner
// spaces or tabs only.
func safe(v string) bool {
	if v == "" {
		return true
	}
	if v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// ErrInvalidValue: a header value with characters a header may not carry, or a
// sentinel-wrapped value that is not valid padded standard Base64.
var ErrInvalidValue = errors.New("invalid header value")

// Decode undoes Encode. A value wrapped in the sentinel must be valid standard Base64
// with its padding (the SEP-2243 test cases reject a missing padding); other values are
// literal and must be header-safe (surrounding whitespace is trimmed first, as HTTP
// does).
func Decode(v string) (string, error) {
	v = strings.Trim(v, " \t")
	if !strings.HasPrefix(v, b64Prefix) || !strings.HasSuffix(v, b64Suffix) || len(v) < len(b64Prefix)+len(b64Suffix) {
		if !safe(v) {
			return "", fmt.Errorf("%w: characters outside visible ASCII", ErrInvalidValue)
		}
		return v, nil
	}
	dec, err := base64.StdEncoding.Strict().DecodeString(v[len(b64Prefix) : len(v)-len(b64Suffix)])
	if err != nil {
		return "", fmt.Errorf("%w: not valid Base64: %w", ErrInvalidValue, err)
	}
	return string(dec), nil
}

// Check compares the Mcp-Param-* headers of a request (keyed by {Name} in lower case)
// with the arguments the bindings name. It returns a message for a HeaderMismatch
// (-32020) error, or "" when they agree: every bound argument present in the body has
// its header with the same (decoded) value, and no bound header is sent for an argument
// the body lacks. Headers that no binding names are ignored, as intermediaries must.
func Check(bindings []Binding, args map[string]json.RawMessage, headers map[string]string) string {
	for _, b := range bindings {
		name := Prefix + b.Header
		want, inBody := b.Value(args)
		raw, inHeaders := headers[strings.ToLower(b.Header)]
		switch {
		case !inBody && !inHeaders:
			continue
		case !inHeaders:
			return fmt.Sprintf("Header mismatch: %s header is required: the body has a value for %s", name, strings.Join(b.Path, "."))
		case !inBody:
			return fmt.Sprintf("Header mismatch: %s header is set but the body has no value for %s", name, strings.Join(b.Path, "."))
		}
		got, err := Decode(raw)
		if err != nil {
			return fmt.Sprintf("Header mismatch: %s header value is invalid (%v)", name, err)
		}
		if got != want {
			return fmt.Sprintf("Header mismatch: %s header value '%s' does not match body value '%s'", name, clip(got), clip(want))
		}
	}
	return ""
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const limit = 64
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}
