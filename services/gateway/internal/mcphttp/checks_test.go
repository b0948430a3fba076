package mcphttp

import "testing"

func TestParseAccept(t *testing.T) {
	tests := []struct {
		values []string
		want   accepts
	}{
		{nil, accepts{}},
		{[]string{""}, accepts{}},
		{[]string{"application/json"}, accepts{json: true}},
		{[]string{"text/event-stream"}, accepts{eventStream: true}},
		{[]string{"application/json, text/event-stream"}, accepts{true, true}},
		{[]string{"application/json", "text/event-stream"}, accepts{true, true}},
		{[]string{"APPLICATION/JSON;q=0.9"}, accepts{json: true}},
		{[]string{"*/*"}, accepts{true, true}},
		{[]string{"application/*"}, accepts{json: true}},
		{[]string{"text/*"}, accepts{eventStream: true}},
		{[]string{"text/html, image/png"}, accepts{}},
		{[]string{"application/json;q=0"}, accepts{}},
		{[]string{"application/json; q=0.000, text/event-stream;q=0.001"}, accepts{eventStream: true}},
		{[]string{"application/json;level=1;q=0"}, accepts{}},
		{[]string{" , ,application/json ,"}, accepts{json: true}},
	}
	for _, tc := range tests {
		if got := parseAccept(tc.values); got != tc.want {
			t.Errorf("parseAccept(%q) = %+v, want %+v", tc.values, got, tc.want)
		}
	}
}

func TestIsJSONContentType(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/Json;charset=UTF-8", true},
		{"application/json; charset", false},
		{"application/jsonx", false},
		{"text/json", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := isJSONContentType(tc.ct); got != tc.want {
			t.Errorf("isJSONContentType(%q) = %v, want %v", tc.ct, got, tc.want)
		}
	}
}

func TestOriginPolicy(t *testing.T) {
	p := newOriginPolicy([]string{"https://App.example.com", "http://localhost:3000"})
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"", "gw:8080", true},
		{"https://app.example.com", "gw:8080", true},
		{"HTTPS://APP.EXAMPLE.COM", "gw:8080", true},
		{"http://localhost:3000", "gw:8080", true},
		{"http://localhost:3001", "gw:8080", false},
		{"http://gw:8080", "gw:8080", true},
		{"https://GW:8080", "gw:8080", true},
		{"http://gw:8080", "", false},
		{"http://gw", "gw:8080", false},
		{"null", "gw:8080", false},
		{"file://gw:8080", "gw:8080", false},
		{"https://evil.example", "gw:8080", false},
	}
	for _, tc := range tests {
		if got := p.allows(tc.origin, tc.host); got != tc.want {
			t.Errorf("allows(%q, %q) = %v, want %v", tc.origin, tc.host, got, tc.want)
		}
	}
	if !newOriginPolicy([]string{"*"}).allows("https://anything", "gw") {
		t.Error(`"*" must allow every origin`)
	}
}
