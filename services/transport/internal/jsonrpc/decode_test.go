package jsonrpc

import (
	"encoding/json"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		kind   Kind
		id     string
		method string
		params string
	}{
		{"request int id", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, KindRequest, `1`, "tools/list", ""},
		{"request string id", `{"jsonrpc":"2.0","id":"a-1","method":"ping","params":{}}`, KindRequest, `"a-1"`, "ping", `{}`},
		{"negative id", ` {"jsonrpc":"2.0","id":-7,"method":"ping"}`, KindRequest, `-7`, "ping", ""},
		{"big id kept raw", `{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}`, KindRequest, `123456789012345678901234567890`, "ping", ""},
		{"escaped method", `{"jsonrpc":"2\u002e0","id":2,"method":"tools\/call","params":{"name":"x"}}`, KindRequest, `2`, "tools/call", `{"name":"x"}`},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, KindNotification, "", "notifications/initialized", ""},
		{"result response", `{"jsonrpc":"2.0","id":"s1","result":{}}`, KindResponse, `"s1"`, "", ""},
		{"error response null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}`, KindResponse, "", "", ""},
		{"error response no id", `{"jsonrpc":"2.0","error":{"code":-1,"message":"x"}}`, KindResponse, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m.Kind != tt.kind || string(m.ID) != tt.id || m.Method != tt.method || string(m.Params) != tt.params {
				t.Fatalf("got kind=%v id=%s method=%q params=%s", m.Kind, m.ID, m.Method, m.Params)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		body string
		code int
		id   string // "" = no id in the answer
	}{
		{"empty", ``, mcpproto.CodeParseError, ""},
		{"whitespace", "  \n", mcpproto.CodeParseError, ""},
		{"malformed", `{"jsonrpc":"2.0","id":1,`, mcpproto.CodeParseError, ""},
		{"trailing garbage", `{"jsonrpc":"2.0","id":1,"method":"a"} x`, mcpproto.CodeParseError, ""},
		{"malformed array", `[{"jsonrpc"`, mcpproto.CodeParseError, ""},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"a"}]`, mcpproto.CodeInvalidRequest, ""},
		{"empty batch", `[]`, mcpproto.CodeInvalidRequest, ""},
		{"string body", `"hello"`, mcpproto.CodeInvalidRequest, ""},
		{"null body", `null`, mcpproto.CodeInvalidRequest, ""},
		{"number body", `42`, mcpproto.CodeInvalidRequest, ""},
		{"no jsonrpc", `{"id":1,"method":"a"}`, mcpproto.CodeInvalidRequest, "1"},
		{"wrong jsonrpc", `{"jsonrpc":"1.0","id":1,"method":"a"}`, mcpproto.CodeInvalidRequest, "1"},
		{"numeric jsonrpc", `{"jsonrpc":2.0,"id":1,"method":"a"}`, mcpproto.CodeInvalidRequest, "1"},
		{"null id request", `{"jsonrpc":"2.0","id":null,"method":"a"}`, mcpproto.CodeInvalidRequest, ""},
		{"fractional id", `{"jsonrpc":"2.0","id":1.5,"method":"a"}`, mcpproto.CodeInvalidRequest, ""},
		{"exponent id", `{"jsonrpc":"2.0","id":1e3,"method":"a"}`, mcpproto.CodeInvalidRequest, ""},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"a"}`, mcpproto.CodeInvalidRequest, ""},
		{"bool id", `{"jsonrpc":"2.0","id":true,"method":"a"}`, mcpproto.CodeInvalidRequest, ""},
		{"empty method", `{"jsonrpc":"2.0","id":1,"method":""}`, mcpproto.CodeInvalidRequest, "1"},
		{"numeric method", `{"jsonrpc":"2.0","id":"x","method":3}`, mcpproto.CodeInvalidRequest, `"x"`},
		{"null method", `{"jsonrpc":"2.0","id":1,"method":null}`, mcpproto.CodeInvalidRequest, "1"},
		{"no method no result", `{"jsonrpc":"2.0","id":1}`, mcpproto.CodeInvalidRequest, "1"},
		{"request with result", `{"jsonrpc":"2.0","id":1,"method":"a","result":{}}`, mcpproto.CodeInvalidRequest, "1"},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, mcpproto.CodeInvalidRequest, "1"},
		{"result without id", `{"jsonrpc":"2.0","result":{}}`, mcpproto.CodeInvalidRequest, ""},
		{"scalar error", `{"jsonrpc":"2.0","id":1,"error":5}`, mcpproto.CodeInvalidRequest, "1"},
		{"array params", `{"jsonrpc":"2.0","id":1,"method":"a","params":[1]}`, mcpproto.CodeInvalidParams, "1"},
		{"null params", `{"jsonrpc":"2.0","id":1,"method":"a","params":null}`, mcpproto.CodeInvalidParams, "1"},
		{"string params notification", `{"jsonrpc":"2.0","method":"a","params":"x"}`, mcpproto.CodeInvalidParams, ""},
		// JSON text is UTF-8: invalid bytes are a parse error, not silently U+FFFD.
		{"invalid UTF-8 in a string", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"s\":\"caf\xe9\"}}", mcpproto.CodeParseError, ""},
		{"truncated UTF-8 sequence", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\xe2\x82\"}", mcpproto.CodeParseError, ""},
		{"UTF-16 surrogate bytes", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xed\xa0\x80\"}", mcpproto.CodeParseError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
			if err.Code != tt.code || string(err.ID) != tt.id {
				t.Fatalf("got code=%d id=%s (%s), want code=%d id=%s", err.Code, err.ID, err.Message, tt.code, tt.id)
			}
			// The answer built from the error must be well-formed, with or without id.
			out := AppendError(nil, err.ID, err.Code, err.Message, nil)
			var v map[string]json.RawMessage
			if jerr := json.Unmarshal(out, &v); jerr != nil {
				t.Fatalf("answer %s is not JSON: %v", out, jerr)
			}
			if _, has := v["id"]; has != (tt.id != "") {
				t.Fatalf("answer %s: id presence = %v", out, has)
			}
		})
	}
}
