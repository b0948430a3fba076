package jsonrpc

import (
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

func TestEncoders(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"result", AppendResult(nil, []byte(`7`), []byte(`{"a":1}`)), `{"jsonrpc":"2.0","id":7,"result":{"a":1}}`},
		{"empty result", AppendResult(nil, []byte(`"x"`), nil), `{"jsonrpc":"2.0","id":"x","result":{}}`},
		{"error no id", AppendError(nil, nil, mcpproto.CodeParseError, "Parse error", nil), `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}}`},
		{"error with data", AppendError(nil, []byte(`1`), -32022, "Unsupported protocol version", []byte(`{"requested":"x"}`)),
			`{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"requested":"x"}}}`},
		{"notification", AppendNotification(nil, "notifications/progress", []byte(`{"progress":1}`)), `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`},
		{"notification no params", AppendNotification(nil, "n", nil), `{"jsonrpc":"2.0","method":"n"}`},
		{"request", AppendRequest(nil, []byte(`"r"`), "ping", nil), `{"jsonrpc":"2.0","id":"r","method":"ping"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Fatalf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func BenchmarkAppendResult(b *testing.B) {
	id, result := []byte(`42`), []byte(`{"content":[{"type":"text","text":"hello"}]}`)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResult(buf[:0], id, result)
	}
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
