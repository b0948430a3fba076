package paramheader

import (
	"encoding/json"
	"strings"
	"testing"
)

const schema = `{"type":"object","properties":{
	"region":{"type":"string","x-mcp-header":"Region"},
	"priority":{"type":"integer","x-mcp-header":"Priority"},
	"verbose":{"type":"boolean","x-mcp-header":"Verbose"},
	"where":{"type":"object","properties":{"zone":{"type":"string","x-mcp-header":"Zone"}}},
	"query":{"type":"string"}}}`

func TestBindings(t *testing.T) {
	b, ok := Bindings(json.RawMessage(schema))
	if !ok || len(b) != 4 {
		t.Fatalf("bindings %v ok=%t", b, ok)
	}
	if b[3].Header != "Zone" || strings.Join(b[3].Path, ".") != "where.zone" {
		t.Errorf("nested binding %+v", b[3])
	}
	for _, bad := range []string{
		`{"properties":{"a":{"type":"number","x-mcp-header":"A"}}}`,
		`{"properties":{"a":{"type":"string","x-mcp-header":"A"},"b":{"type":"string","x-mcp-header":"a"}}}`,
		`{"properties":{"a":{"type":"string","x-mcp-header":"Bad Name"}}}`,
		`{"properties":{"a":{"type":"string","x-mcp-header":""}}}`,
	} {
		if b, ok := Bindings(json.RawMessage(bad)); ok || b != nil {
			t.Errorf("%s: want invalid, got %v", bad, b)
		}
	}
	if b, ok := Bindings(json.RawMessage(`{"type":"object"}`)); !ok || b != nil {
		t.Errorf("no annotations: %v %t", b, ok)
	}
}

func TestEncodeDecode(t *testing.T) {
	for _, v := range []string{"us-west1", "Hello, 世界", " padded ", "line1\nline2", "=?base64?literal?=", "", "a\tb"} {
		got, err := Decode(Encode(v))
		if err != nil || got != v {
			t.Errorf("%q: round trip %q %v", v, got, err)
		}
	}
	if Encode("Hello, 世界") != "=?base64?SGVsbG8sIOS4lueVjA==?=" {
		t.Errorf("encode: %s", Encode("Hello, 世界"))
	}
}

// TestCheck follows the SEP-2243 server cases of the conformance suite.
func TestCheck(t *testing.T) {
	b, _ := Bindings(json.RawMessage(schema))
	var args map[string]json.RawMessage
	if err := json.Unmarshal([]byte(`{"region":"Hello","priority":0,"query":"q","where":{"zone":"z1"}}`), &args); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"priority": "0", "zone": "z1"}
	with := func(region string) map[string]string {
		h := map[string]string{"region": region}
		for k, v := range base {
			h[k] = v
		}
		return h
	}
	for _, tt := range []struct {
		name    string
		headers map[string]string
		want    string // "" accepted, else a part of the message
	}{
		{"plain value", with("Hello"), ""},
		{"valid base64", with("=?base64?SGVsbG8=?="), ""},
		{"missing padding", with("=?base64?SGVsbG8?="), "invalid"},
		{"non-alphabet characters", with("=?base64?SGVs!!!bG8=?="), "invalid"},
		{"mismatch", with("World"), "does not match body value 'Hello'"},
		{"missing header", base, "Mcp-Param-Region header is required"},
		{"control character", with("Hel\x01lo"), "invalid"},
		{"integer mismatch", map[string]string{"region": "Hello", "priority": "1", "zone": "z1"}, "Mcp-Param-Priority"},
		{"header without body value", map[string]string{"region": "Hello", "priority": "0", "zone": "z1", "verbose": "true"}, "no value for verbose"},
		{"unbound headers ignored", map[string]string{"region": "Hello", "priority": "0", "zone": "z1", "other": "x"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(b, args, tt.headers)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("Check = %q, want %q", got, tt.want)
			}
		})
	}
	// A value that looks like the sentinel but lacks the suffix is literal.
	var lit map[string]json.RawMessage
	_ = json.Unmarshal([]byte(`{"region":"=?base64?SGVsbG8=","priority":0,"where":{"zone":"z1"}}`), &lit)
	if got := Check(b, lit, map[string]string{"region": "=?base64?SGVsbG8=", "priority": "0", "zone": "z1"}); got != "" {
		t.Errorf("literal sentinel-like value: %s", got)
	}
}
