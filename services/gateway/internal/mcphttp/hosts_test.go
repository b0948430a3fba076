package mcphttp

import "testing"

func TestHostPolicy(t *testing.T) {
	tests := []struct {
		name     string
		hosts    []string
		loopback bool
		host     string
		want     bool
	}{
		// Loopback bind: loopback names on any port, nothing else.
		{"loopback localhost", nil, true, "localhost:8080", true},
		{"loopback LOCALHOST no port", nil, true, "LOCALHOST", true},
		{"loopback 127.0.0.1", nil, true, "127.0.0.1:49152", true},
		{"loopback [::1]", nil, true, "[::1]:8080", true},
		{"loopback [::1] no port", nil, true, "[::1]", true},
		{"loopback rebinding name", nil, true, "evil.example.com", false},
		{"loopback rebinding name with port", nil, true, "evil.example.com:8080", false},
		{"loopback other 127/8 address", nil, true, "127.0.0.2:8080", false},
		{"loopback localhost suffix", nil, true, "localhost.evil.example:8080", false},
		{"loopback empty host", nil, true, "", false},
		{"loopback listed name", []string{"mcp.internal"}, true, "MCP.internal:9000", true},
		{"loopback listed host:port", []string{"mcp.internal:9000"}, true, "mcp.internal:9000", true},
		{"loopback listed host:port other port", []string{"mcp.internal:9000"}, true, "mcp.internal:9001", false},
		{"loopback listed bare IPv6", []string{"::2"}, true, "[::2]:80", true},
		{"loopback star", []string{"*"}, true, "evil.example.com", true},
		// Other binds: only the list, and an empty list allows everything.
		{"public empty list", nil, false, "evil.example.com", true},
		{"public empty list empty host", nil, false, "", true},
		{"public listed", []string{"mcp.example.com"}, false, "mcp.example.com:443", true},
		{"public not listed", []string{"mcp.example.com"}, false, "evil.example.com", false},
		{"public localhost not special", []string{"mcp.example.com"}, false, "localhost:8080", false},
		{"public star", []string{"mcp.example.com", "*"}, false, "anything", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := newHostPolicy(tc.hosts, tc.loopback).allows(tc.host); got != tc.want {
				t.Errorf("allows(%q) with hosts %q, loopback %v = %v, want %v", tc.host, tc.hosts, tc.loopback, got, tc.want)
			}
		})
	}
}

func TestIsLoopbackListen(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1:0", true},
		{"127.1.2.3:80", true},
		{"localhost:8080", true},
		{"[::1]:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"10.0.0.5:8080", false},
		{"mcp.example.com:8080", false},
	}
	for _, tc := range tests {
		if got := IsLoopbackListen(tc.addr); got != tc.want {
			t.Errorf("IsLoopbackListen(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
