package mcphttp

import (
	"mime"
	"net/http"
	"strings"
)

// originPolicy decides whether a browser Origin may call /mcp (MCP: "If the Origin
// header is present and invalid, servers MUST respond with HTTP 403 Forbidden").
type originPolicy struct {
	any     bool
	allowed map[string]struct{}
}

func newOriginPolicy(origins []string) originPolicy {
	p := originPolicy{allowed: make(map[string]struct{}, len(origins))}
	for _, o := range origins {
		if o == "*" {
			p.any = true
			continue
		}
		p.allowed[strings.ToLower(o)] = struct{}{}
	}
	return p
}

// allows reports whether a request with this Origin and Host may proceed. No Origin
// (non-browser clients) is allowed; so is the same origin as the Host header.
func (p originPolicy) allows(origin, host string) bool {
	if origin == "" || p.any {
		return true
	}
	if _, ok := p.allowed[origin]; ok {
		return true
	}
	for o := range p.allowed {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return sameOrigin(origin, host)
}

// sameOrigin compares the authority of an http(s) origin with the Host header.
func sameOrigin(origin, host string) bool {
	var rest string
	switch {
	case hasPrefixFold(origin, "http://"):
		rest = origin[len("http://"):]
	case hasPrefixFold(origin, "https://"):
		rest = origin[len("https://"):]
	default:
		return false // "null", other schemes
	}
	return host != "" && strings.EqualFold(rest, host)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isJSONContentType accepts application/json with any parameters (charset).
func isJSONContentType(ct string) bool {
	if ct == "application/json" {
		return true // the common case, without parsing
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// accepts says which response media types the client takes.
type accepts struct{ json, eventStream bool }

// parseAccept reads every Accept header. Wildcards count (*/* both, application/* JSON,
// text/* event streams); a media range with q=0 is refused, per RFC 9110.
func parseAccept(values []string) accepts {
	var a accepts
	for _, v := range values {
		for v != "" {
			var item string
			if i := strings.IndexByte(v, ','); i >= 0 {
				item, v = v[:i], v[i+1:]
			} else {
				item, v = v, ""
			}
			mediaRange, params, _ := strings.Cut(item, ";")
			mediaRange = strings.TrimSpace(mediaRange)
			if refused(params) {
				continue
			}
			switch {
			case strings.EqualFold(mediaRange, "application/json"):
				a.json = true
			case strings.EqualFold(mediaRange, "text/event-stream"):
				a.eventStream = true
			case mediaRange == "*/*":
				a.json, a.eventStream = true, true
			case strings.EqualFold(mediaRange, "application/*"):
				a.json = true
			case strings.EqualFold(mediaRange, "text/*"):
				a.eventStream = true
			}
		}
	}
	return a
}

// refused reports a q parameter of zero ("q=0", "q=0.0", "q=0.000").
func refused(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		val = strings.TrimSpace(val)
		if val == "" || val[0] != '0' {
			return false
		}
		return strings.Trim(val[1:], ".0") == ""
	}
	return false
}

// header returns the first value of a header by its canonical key, without the
// canonicalisation cost of http.Header.Get.
func header(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}
