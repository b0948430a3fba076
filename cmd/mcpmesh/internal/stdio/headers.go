package stdio

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// Header names of the Streamable HTTP transport.
const (
	headerSessionID       = "Mcp-Session-Id"
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerMethod          = "Mcp-Method"
	headerName            = "Mcp-Name"
	headerLastEventID     = "Last-Event-ID"
)

const (
	b64Prefix = "=?base64?"
	b64Suffix = "?="
)

// encodeHeaderValue applies the 2026-07-28 value encoding: a value that is not plain
// visible ASCII (with inner spaces), has leading or trailing whitespace, or looks like
// the sentinel itself travels as "=?base64?<standard base64 of UTF-8>?=".
func encodeHeaderValue(v string) string {
	if headerSafe(v) && (!strings.HasPrefix(v, b64Prefix) || !strings.HasSuffix(v, b64Suffix)) {
		return v
	}
	return b64Prefix + base64.StdEncoding.EncodeToString([]byte(v)) + b64Suffix
}

func headerSafe(v string) bool {
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

// setStatelessHeaders adds the headers a 2026-07-28 POST must carry.
func setStatelessHeaders(h http.Header, m *message) {
	h.Set(headerProtocolVersion, m.statelessVersion)
	if m.method != "" {
		h.Set(headerMethod, m.method)
	}
	if m.hasName {
		h.Set(headerName, encodeHeaderValue(m.name))
	}
}
