package wire

import (
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
)

// Generation is the protocol generation serving one message.
type Generation uint8

const (
	// Stateful is 2025-03-26 .. 2025-11-25: initialize handshake and Mcp-Session-Id.
	Stateful Generation = iota + 1
	// Stateless is 2026-07-28: version and capabilities in every request's _meta.
	Stateless
)

func (g Generation) String() string {
	if g == Stateless {
		return "stateless"
	}
	return "stateful"
}

// Choose picks the generation of one POSTed message, in this order:
//  1. a _meta protocol version marks a stateless request (the spec's dual-era rule:
//     "a request carrying modern per-request _meta is served statelessly"), even when
//     the header is unsupported, so that the client gets -32022 or -32020; this holds
//     for "initialize" too, which the stateless generation does not have (404, -32601):
//     a legacy client never sends that _meta member;
//  2. any other "initialize" selects the stateful handshake, whatever the headers say;
//  3. a stateless MCP-Protocol-Version header selects stateless;
//  4. an unknown header value on a message without a session id is answered as the
//     stateless generation answers (-32022 with the supported list), which lets a
//     newer client fall back; with a session id it stays stateful (400 naming the
//     supported versions);
//  5. everything else is stateful (including no header at all).
func Choose(method string, params Params, headerVersion, sessionID string) Generation {
	switch {
	case params.HasProtocolVersion:
		return Stateless
	case method == mcpproto.MethodInitialize:
		return Stateful
	case headerVersion == "":
		return Stateful
	case mcpversion.IsStateless(headerVersion):
		return Stateless
	case !mcpversion.IsStateful(headerVersion) && sessionID == "":
		return Stateless
	default:
		return Stateful
	}
}
