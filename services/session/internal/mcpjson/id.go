package mcpjson

import (
	"encoding/json"
	"strings"
)

// NormalizeID turns a raw JSON-RPC id into a canonical key, so that "a" and "\u0061"
// (or " 7" and "7") match, and a string id never matches a number. ok is false for
// anything that is not a string or a number.
func NormalizeID(id []byte) (string, bool) {
	switch Kind(id) {
	case '"':
		var s string
		if json.Unmarshal(id, &s) != nil {
			return "", false
		}
		return "s" + s, true
	case '0':
		// MCP ids are strings or integers, so the trimmed text is canonical enough.
		return "n" + strings.TrimSpace(string(id)), true
	default:
		return "", false
	}
}
