// Package wire holds the MCP-over-HTTP rules that sit between JSON-RPC decoding and the
// session service: which protocol generation serves a POST, and the header checks of
// the stateless (2026-07-28) generation. Its functions are pure and cheap so they can
// be table-tested without a server.
package wire

import (
	"encoding/json"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// Params is the part of a request's params the transport looks at. Values stay raw.
type Params struct {
	// ProtocolVersion is _meta's protocol version; "" when absent or not a string.
	ProtocolVersion string
	// HasProtocolVersion tells an absent version from an empty or non-string one.
	HasProtocolVersion bool
	// ClientCapabilities is the raw _meta client capabilities; nil when absent or null.
	ClientCapabilities json.RawMessage
	// Name, URI and TaskID are params.name, params.uri and params.taskId (raw), for the
	// Mcp-Name check.
	Name   json.RawMessage
	URI    json.RawMessage
	TaskID json.RawMessage
}

type paramsView struct {
	Meta *struct {
		ProtocolVersion    json.RawMessage `json:"io.modelcontextprotocol/protocolVersion"`
		ClientCapabilities json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
	} `json:"_meta"`
	Name   json.RawMessage `json:"name"`
	URI    json.RawMessage `json:"uri"`
	TaskID json.RawMessage `json:"taskId"`
}

// MayHaveProtocolVersion is a cheap screen run before ReadParams: false means that
// ReadParams(raw) would not report a _meta protocol version, so a request whose
// generation the headers already settle needs no decoding of its params here (the
// session decodes them anyway). It looks for the key's last word the way
// encoding/json matches keys (ASCII case-insensitively) and gives up, answering true,
// on escapes and non-ASCII bytes, which could spell the key in other ways.
func MayHaveProtocolVersion(raw []byte) bool {
	const word = "protocolversion"
	for i, c := range raw {
		if c == '\\' || c >= 0x80 {
			return true
		}
		if c|0x20 == word[0] && hasFoldPrefix(raw[i:], word) {
			return true
		}
	}
	return false
}

// hasFoldPrefix reports whether b starts with lower (ASCII letters only), in any case.
func hasFoldPrefix(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// ReadParams extracts the transport's view of a params object. raw must be a JSON
// object (as validated by the decoder) or empty. A _meta that is not an object is
// treated as absent.
func ReadParams(raw json.RawMessage) Params {
	var p Params
	if len(raw) == 0 {
		return p
	}
	var v paramsView
	if err := json.Unmarshal(raw, &v); err != nil {
		// Only a member of the wrong type (a non-object _meta) can fail here: read what
		// we can without _meta.
		var names struct {
			Name   json.RawMessage `json:"name"`
			URI    json.RawMessage `json:"uri"`
			TaskID json.RawMessage `json:"taskId"`
		}
		_ = json.Unmarshal(raw, &names)
		p.Name, p.URI, p.TaskID = names.Name, names.URI, names.TaskID
		return p
	}
	p.Name, p.URI, p.TaskID = v.Name, v.URI, v.TaskID
	if v.Meta == nil {
		return p
	}
	if pv := v.Meta.ProtocolVersion; pv != nil && string(pv) != "null" {
		p.HasProtocolVersion = true
		p.ProtocolVersion, _ = jsonrpc.DecodeString(pv)
	}
	if cc := v.Meta.ClientCapabilities; cc != nil && string(cc) != "null" {
		p.ClientCapabilities = cc
	}
	return p
}
