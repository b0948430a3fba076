// Package mcpversion lists the MCP protocol versions mcpmesh serves and tells the two
// generations apart: the stateful one (initialize handshake, sessions) and the
// stateless one (version and capabilities in every request's _meta).
package mcpversion

import "slices"

// The protocol versions, newest first within each generation.
const (
	V20260728 = "2026-07-28"
	V20251125 = "2025-11-25"
	V20250618 = "2025-06-18"
	V20250326 = "2025-03-26"
	V20241105 = "2024-11-05"
)

// Stateless lists the versions of the stateless generation, newest first.
var Stateless = []string{V20260728}

// Stateful lists the versions served with the initialize handshake, newest first.
var Stateful = []string{V20251125, V20250618, V20250326, V20241105}

// All lists every supported version, newest first: the list that errors about an
// unsupported version carry.
var All = append(slices.Clone(Stateless), Stateful...)

// LatestStateful is offered when a client asks initialize for an unknown version.
const LatestStateful = V20251125

// DefaultHeaderless is assumed for stateful requests without MCP-Protocol-Version,
// as the 2025-11-25 transport says.
const DefaultHeaderless = V20250326

// IsStateless reports whether v is a version of the stateless generation.
func IsStateless(v string) bool { return slices.Contains(Stateless, v) }

// IsStateful reports whether v is a supported version of the stateful generation.
func IsStateful(v string) bool { return slices.Contains(Stateful, v) }

// IsSupported reports whether v is any supported version.
func IsSupported(v string) bool { return IsStateless(v) || IsStateful(v) }

// Negotiate answers an initialize request for version requested: the same version when
// it is a supported stateful one, else the latest stateful version.
func Negotiate(requested string) string {
	if IsStateful(requested) {
		return requested
	}
	return LatestStateful
}

// AtLeast reports whether version v is the same as or newer than min. Versions are
// dates, so they order as strings.
func AtLeast(v, min string) bool { return v >= min }
