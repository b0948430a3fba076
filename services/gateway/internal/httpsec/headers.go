// Package httpsec is what the gateway adds to every HTTP response for browsers'
// sake: security headers, and CORS for the origins configured (and only those).
package httpsec

import (
	"net/http"
	"slices"
	"strings"
)

// CORS configures cross-origin access from browsers.
type CORS struct {
	// AllowedOrigins are the origins (scheme://host[:port]) whose pages may call the
	// gateway from a browser; empty: none (no CORS headers at all).
	AllowedOrigins []string
}

// Headers that browsers let a page read from a cross-origin answer: the MCP session
// and protocol headers, and the authentication challenge.
var exposedHeaders = strings.Join([]string{"Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"}, ", ")

// Headers a cross-origin page may send.
var allowedRequestHeaders = strings.Join([]string{
	"Authorization", "Content-Type", "Accept", "Last-Event-ID", "Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name",
}, ", ")

const allowedMethods = "GET, POST, DELETE, OPTIONS"

// constantHeader is a header every answer carries with one fixed value. Wrap assigns
// the shared one-element slice (its canonical key, len == cap) instead of calling Set,
// which allocates a slice per header per response; a later Set replaces the slice and
// a later Add copies it, so nothing writes into the shared one.
type constantHeader struct {
	name  string
	value []string
}

var (
	constantHeaders = []constantHeader{
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"Referrer-Policy", []string{"no-referrer"}},
		{"X-Frame-Options", []string{"DENY"}},
		{"Content-Security-Policy", []string{"frame-ancestors 'none'"}},
		{"Cache-Control", []string{"no-store"}},
	}
	hstsHeader = constantHeader{"Strict-Transport-Security", []string{"max-age=31536000"}}
)

// Wrap adds the security headers to every answer of h and handles CORS:
//   - X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, and framing
//     forbidden (X-Frame-Options: DENY, Content-Security-Policy: frame-ancestors 'none');
//   - Cache-Control: no-store, unless the handler sets its own;
//   - Strict-Transport-Security on answers over TLS;
//   - for an allowed Origin: Access-Control-Allow-Origin with the exposed headers, and
//     preflight requests (OPTIONS with Access-Control-Request-Method) answered 204.
//     A preflight from any other origin gets 403 and no CORS header, so the browser
//     refuses the call.
func Wrap(h http.Handler, cors CORS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		for _, c := range constantHeaders {
			hdr[c.name] = c.value
		}
		if r.TLS != nil {
			hdr[hstsHeader.name] = hstsHeader.value
		}
		origin := r.Header.Get("Origin")
		allowed := origin != "" && slices.Contains(cors.AllowedOrigins, origin)
		if origin != "" && len(cors.AllowedOrigins) > 0 {
			hdr.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
			hdr.Set("Access-Control-Allow-Origin", origin)
			hdr.Set("Access-Control-Allow-Methods", allowedMethods)
			hdr.Set("Access-Control-Allow-Headers", allowedRequestHeaders)
			hdr.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			hdr.Set("Access-Control-Allow-Origin", origin)
			hdr.Set("Access-Control-Expose-Headers", exposedHeaders)
		}
		h.ServeHTTP(w, r)
	})
}
