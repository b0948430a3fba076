package httprecord

import "net/http"

// Scheme is url.scheme of a request the server received: https over TLS, else http.
func Scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// ProtocolVersion is network.protocol.version of a request the server received
// ("1.0", "1.1", "2"), empty for any other: a bounded value.
func ProtocolVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "1.1"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	default:
		return ""
	}
}

// OtherMethod is what Method makes of a method outside the standard ones.
const OtherMethod = "_OTHER"

// Method is m when it is one of the methods the HTTP semantic conventions name, and
// OtherMethod otherwise, so that a client cannot multiply metric series or span names
// with methods of its own invention.
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodPatch,
		http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	default:
		return OtherMethod
	}
}
