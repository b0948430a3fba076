package httprecord

import "net/http"

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
