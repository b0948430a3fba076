// Package wire holds the MCP-over-HTTP rules that sit between JSON-RPC decoding and the
// session service: which protocol generation serves a POST, and the header checks of
// the stateless (2026-07-28) generation. Its functions are pure and cheap so they can
// be table-tested without a server.
package wire

import (
	"encoding/json"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// The _meta keys of the stateless generation.
const (
	MetaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
)

// Params is the part of a request's params the transport looks at. Values stay raw.
type Params struct {
	// ProtocolVersion is _meta's protocol version; "" when absent or not a string.
	ProtocolVersion string
	// HasProtocolVersion tells an absent version from an empty or non-string one.
	HasProtocolVersion bool
	// ClientCapabilities is the raw _meta client capabilities; nil when absent or null.
	ClientCapabilities json.RawMessage
	// Name and URI are params.name and params.uri (raw), for the Mcp-Name check.
	Name json.RawMessage
	URI  json.RawMessage
}

type paramsView struct {
	Meta *struct {
		ProtocolVersion    json.RawMessage `json:"io.modelcontextprotocol/protocolVersion"`
		ClientCapabilities json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
	} `json:"_meta"`
	Name json.RawMessage `json:"name"`
	URI  json.RawMessage `json:"uri"`
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
			Name json.RawMessage `json:"name"`
			URI  json.RawMessage `json:"uri"`
		}
		_ = json.Unmarshal(raw, &names)
		p.Name, p.URI = names.Name, names.URI
		return p
	}
	p.Name, p.URI = v.Name, v.URI
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
