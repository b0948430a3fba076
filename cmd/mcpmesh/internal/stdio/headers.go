package stdio

import (
	"net/http"

	"github.com/mcpmesh/mcpmesh/services/kit/paramheader"
)

// Header names of the Streamable HTTP transport.
const (
	headerSessionID       = "Mcp-Session-Id"
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerMethod          = "Mcp-Method"
	headerName            = "Mcp-Name"
	headerLastEventID     = "Last-Event-ID"
)

// setStatelessHeaders adds the headers a 2026-07-28 POST must carry.
func setStatelessHeaders(h http.Header, m *message) {
	h.Set(headerProtocolVersion, m.statelessVersion)
	if m.method != "" {
		h.Set(headerMethod, m.method)
	}
	if m.hasName {
		h.Set(headerName, paramheader.Encode(m.name))
	}
}
