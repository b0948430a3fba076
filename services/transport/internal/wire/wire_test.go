package wire

import (
	"encoding/json"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
)

const (
	meta     = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	metaOnly = `{` + meta + `}`
)

func TestReadParams(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		has     bool
		version string
		caps    string
		pname   string
	}{
		{"empty", ``, false, "", "", ""},
		{"no meta", `{"name":"x"}`, false, "", "", `"x"`},
		{"meta", `{"name":"t",` + meta + `}`, true, "2026-07-28", `{}`, `"t"`},
		{"escaped key", `{"_meta":{"io.modelcontextprotocol\/protocolVersion":"2026-07-28"}}`, true, "2026-07-28", "", ""},
		{"null version", `{"_meta":{"io.modelcontextprotocol/protocolVersion":null}}`, false, "", "", ""},
		{"non-string version", `{"_meta":{"io.modelcontextprotocol/protocolVersion":5}}`, true, "", "", ""},
		{"meta not object", `{"name":"n","_meta":[1]}`, false, "", "", `"n"`},
		{"null caps", `{"_meta":{"io.modelcontextprotocol/clientCapabilities":null}}`, false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ReadParams(json.RawMessage(tt.raw))
			if p.HasProtocolVersion != tt.has || p.ProtocolVersion != tt.version || string(p.ClientCapabilities) != tt.caps || string(p.Name) != tt.pname {
				t.Fatalf("got %+v", p)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	withMeta := Params{HasProtocolVersion: true, ProtocolVersion: "2026-07-28"}
	tests := []struct {
		name      string
		method    string
		params    Params
		header    string
		sessionID string
		want      Generation
	}{
		{"initialize", "initialize", Params{}, "", "", Stateful},
		{"initialize with a stateless header", "initialize", Params{}, "2026-07-28", "", Stateful},
		// A modern _meta makes it a stateless request for a method 2026-07-28 removed.
		{"initialize with meta", "initialize", withMeta, "2026-07-28", "", Stateless},
		{"meta", "tools/list", withMeta, "", "", Stateless},
		{"meta with unsupported header", "tools/list", withMeta, "1900-01-01", "", Stateless},
		{"meta with session", "tools/list", withMeta, "2025-11-25", "s1", Stateless},
		{"stateless header", "tools/list", Params{}, "2026-07-28", "", Stateless},
		{"stateful header", "tools/list", Params{}, "2025-11-25", "s1", Stateful},
		{"no header", "tools/list", Params{}, "", "s1", Stateful},
		{"no header no session", "tools/list", Params{}, "", "", Stateful},
		{"unknown header no session", "tools/list", Params{}, "1900-01-01", "", Stateless},
		{"unknown header with session", "tools/list", Params{}, "1900-01-01", "s1", Stateful},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Choose(tt.method, tt.params, tt.header, tt.sessionID); got != tt.want {
				t.Fatalf("Choose = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckStateless(t *testing.T) {
	const v = mcpversion.V20260728
	callParams := ReadParams(json.RawMessage(`{"name":"échø",` + meta + `}`))
	readParams := ReadParams(json.RawMessage(`{"uri":"file:///a b",` + meta + `}`))
	listParams := ReadParams(json.RawMessage(metaOnly))
	taskParams := ReadParams(json.RawMessage(`{"taskId":"t-1",` + meta + `}`))
	tests := []struct {
		name         string
		method       string
		notification bool
		params       Params
		h            StatelessHeaders
		code         int // 0 = accepted
	}{
		{"ok list", "tools/list", false, listParams, StatelessHeaders{v, "tools/list", ""}, 0},
		{"ok call base64 name", "tools/call", false, callParams, StatelessHeaders{v, "tools/call", "=?base64?w6ljaMO4?="}, 0},
		{"ok call plain name", "tools/call", false, ReadParams(json.RawMessage(`{"name":"echo",` + meta + `}`)), StatelessHeaders{v, "tools/call", "echo"}, 0},
		{"ok read uri", "resources/read", false, readParams, StatelessHeaders{v, "resources/read", "=?base64?ZmlsZTovLy9hIGI=?="}, 0},
		{"ok notification without method header", "notifications/x", true, ReadParams(json.RawMessage(`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`)), StatelessHeaders{v, "", ""}, 0},
		{"missing version header", "tools/list", false, listParams, StatelessHeaders{"", "tools/list", ""}, mcpproto.CodeHeaderMismatch},
		{"version mismatch", "tools/list", false, listParams, StatelessHeaders{"2025-11-25", "tools/list", ""}, mcpproto.CodeHeaderMismatch},
		{"unsupported version", "tools/list", false, ReadParams(json.RawMessage(`{"_meta":{"io.modelcontextprotocol/protocolVersion":"1900-01-01"}}`)), StatelessHeaders{"1900-01-01", "tools/list", ""}, mcpproto.CodeUnsupportedProtocolVersion},
		{"unsupported header no meta", "tools/list", false, Params{}, StatelessHeaders{"1900-01-01", "tools/list", ""}, mcpproto.CodeUnsupportedProtocolVersion},
		{"stateless header no meta", "tools/list", false, Params{}, StatelessHeaders{v, "tools/list", ""}, mcpproto.CodeInvalidParams},
		{"missing method header", "tools/list", false, listParams, StatelessHeaders{v, "", ""}, mcpproto.CodeHeaderMismatch},
		{"method mismatch", "tools/list", false, listParams, StatelessHeaders{v, "prompts/list", ""}, mcpproto.CodeHeaderMismatch},
		{"notification method mismatch", "notifications/x", true, listParams, StatelessHeaders{v, "notifications/y", ""}, mcpproto.CodeHeaderMismatch},
		{"missing name", "tools/call", false, callParams, StatelessHeaders{v, "tools/call", ""}, mcpproto.CodeHeaderMismatch},
		{"name mismatch", "tools/call", false, callParams, StatelessHeaders{v, "tools/call", "other"}, mcpproto.CodeHeaderMismatch},
		{"name bad base64", "prompts/get", false, callParams, StatelessHeaders{v, "prompts/get", "=?base64?!!!?="}, mcpproto.CodeHeaderMismatch},
		{"uri mismatch", "resources/read", false, readParams, StatelessHeaders{v, "resources/read", "file:///a"}, mcpproto.CodeHeaderMismatch},
		// The tasks extension's Mcp-Name: <taskId>, checked when sent.
		{"ok task id", "tasks/get", false, taskParams, StatelessHeaders{v, "tasks/get", "t-1"}, 0},
		{"ok task without name header", "tasks/cancel", false, taskParams, StatelessHeaders{v, "tasks/cancel", ""}, 0},
		{"task id mismatch", "tasks/get", false, taskParams, StatelessHeaders{v, "tasks/get", "t-2"}, mcpproto.CodeHeaderMismatch},
		{"task id mismatch on update", "tasks/update", false, taskParams, StatelessHeaders{v, "tasks/update", "t-2"}, mcpproto.CodeHeaderMismatch},
		{"missing capabilities", "tools/list", false, ReadParams(json.RawMessage(`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`)), StatelessHeaders{v, "tools/list", ""}, mcpproto.CodeInvalidParams},
		{"capabilities not object", "tools/list", false, ReadParams(json.RawMessage(`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":true}}`)), StatelessHeaders{v, "tools/list", ""}, mcpproto.CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := CheckStateless(tt.method, tt.notification, tt.params, tt.h)
			if tt.code == 0 {
				if f != nil {
					t.Fatalf("rejected: %+v", f)
				}
				return
			}
			if f == nil {
				t.Fatalf("accepted, want code %d", tt.code)
			}
			if f.Code != tt.code || f.HTTPStatus != 400 {
				t.Fatalf("got %d/%d %q, want 400/%d", f.HTTPStatus, f.Code, f.Message, tt.code)
			}
		})
	}
}

func TestUnsupportedVersionData(t *testing.T) {
	f := UnsupportedVersion("1900-01-01")
	var data struct {
		Supported []string `json:"supported"`
		Requested string   `json:"requested"`
	}
	if err := json.Unmarshal(f.Data, &data); err != nil {
		t.Fatalf("data %s: %v", f.Data, err)
	}
	if data.Requested != "1900-01-01" || len(data.Supported) != len(mcpversion.All) || data.Supported[0] != mcpversion.All[0] {
		t.Fatalf("data = %+v", data)
	}
}

func TestDecodeHeaderValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"=?base64?aGVsbG8=?=", "hello"},
		{"=?base64?aGVsbG8?=", "hello"},
		{"=?base64?", "=?base64?"},
		{"=?BASE64?aGVsbG8=?=", "=?BASE64?aGVsbG8=?="},
	}
	for _, tt := range tests {
		got, err := DecodeHeaderValue(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("DecodeHeaderValue(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := DecodeHeaderValue("=?base64?***?="); err == nil {
		t.Error("invalid base64 accepted")
	}
}

func TestMayHaveProtocolVersion(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{``, false},
		{`{"name":"echo","arguments":{"message":"hi"}}`, false},
		{`{"name":"echo","_meta":{"progressToken":1}}`, false},
		{`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`, true},
		{`{"_META":{"IO.MODELCONTEXTPROTOCOL/PROTOCOLVERSION":"x"}}`, true},
		{`{"_meta":{"io.modelcontextprotocol/protocol\u0056ersion":"x"}}`, true},
		{`{"_meta":{"io.modelcontextprotocol/protocolVerſion":"x"}}`, true},
		{`{"name":"protocolVersio"}`, false},
	}
	for _, tt := range tests {
		if got := MayHaveProtocolVersion([]byte(tt.raw)); got != tt.want {
			t.Errorf("MayHaveProtocolVersion(%s) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// FuzzMayHaveProtocolVersion checks the screen against ReadParams: it may answer true
// needlessly, never false when ReadParams finds a version.
func FuzzMayHaveProtocolVersion(f *testing.F) {
	for _, s := range []string{
		`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`,
		`{"_meta":{"IO.modelcontextprotocol/PROTOCOLversion":null}}`,
		`{"_Meta":{"io.modelcontextprotocol/protocolVersion":1}}`,
		`{"name":"a","_meta":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		if !MayHaveProtocolVersion(raw) && ReadParams(raw).HasProtocolVersion {
			t.Fatalf("screen said no version, ReadParams found one in %s", raw)
		}
	})
}
