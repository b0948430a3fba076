package mcphttp

import (
	"net"
	"strings"
)

// hostPolicy is the DNS-rebinding protection: a page on evil.example whose name an
// attacker resolves to 127.0.0.1 reaches a loopback server with "Host: evil.example"
// (and a matching Origin, so the Origin check alone passes). A gateway bound to
// loopback therefore takes only loopback names in Host, plus the configured ones. On
// other binds proxies and load balancers set Host to whatever name clients use, so
// only the configured list applies there, and an empty list allows every host.
type hostPolicy struct {
	any      bool // "*" in the list, or no list on a non-loopback bind
	loopback bool // the bind is loopback: localhost names are always allowed
	// allowed holds lower-case entries: a bare host matches every port, a host:port
	// entry only that port. IPv6 hosts keep their brackets ("[::1]").
	allowed map[string]struct{}
}

func newHostPolicy(hosts []string, loopbackBind bool) hostPolicy {
	p := hostPolicy{loopback: loopbackBind, allowed: make(map[string]struct{}, len(hosts))}
	for _, h := range hosts {
		if h == "*" {
			p.any = true
			continue
		}
		p.allowed[normalizeHostEntry(h)] = struct{}{}
	}
	if !loopbackBind && len(p.allowed) == 0 {
		p.any = true
	}
	return p
}

// allows reports whether a request with this Host header may proceed.
func (p hostPolicy) allows(host string) bool {
	if p.any {
		return true
	}
	if host == "" {
		return false // HTTP/1.0 without Host: nothing to vouch for the name
	}
	name, _ := splitHost(host)
	if p.loopback && isLoopbackName(name) {
		return true
	}
	if len(p.allowed) == 0 {
		return false
	}
	lowerHost, lowerName := strings.ToLower(host), strings.ToLower(name)
	if _, ok := p.allowed[lowerName]; ok {
		return true
	}
	_, ok := p.allowed[lowerHost]
	return ok
}

// splitHost splits a Host header into its name (IPv6 literals keep their brackets)
// and port; the port is "" when absent.
func splitHost(host string) (name, port string) {
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return host, ""
		}
		name, rest := host[:end+1], host[end+1:]
		if strings.HasPrefix(rest, ":") {
			return name, rest[1:]
		}
		return name, ""
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host[:i], ':') < 0 {
		return host[:i], host[i+1:]
	}
	return host, ""
}

// isLoopbackName accepts the loopback names the MCP conformance suite and browsers
// use: localhost, 127.0.0.1 and [::1].
func isLoopbackName(name string) bool {
	return strings.EqualFold(name, "localhost") || name == "127.0.0.1" || name == "[::1]"
}

// normalizeHostEntry lower-cases an allowed_hosts entry and brackets a bare IPv6
// address, so it compares with what splitHost returns.
func normalizeHostEntry(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if ip := net.ParseIP(h); ip != nil && ip.To4() == nil {
		return "[" + h + "]"
	}
	return h
}

// IsLoopbackListen reports whether a listen address (host:port) binds loopback only:
// "localhost", or an IP in 127.0.0.0/8 or ::1. An empty host (all interfaces) is not.
func IsLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
