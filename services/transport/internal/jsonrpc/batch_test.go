package jsonrpc

import (
	"encoding/json"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

func TestIsBatch(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`[]`, true},
		{" \r\n\t[{}]", true},
		{`[`, true}, // SplitBatch reports it malformed
		{`{"jsonrpc":"2.0"}`, false},
		{`"["`, false},
		{``, false},
		{`   `, false},
	}
	for _, tt := range tests {
		if got := IsBatch([]byte(tt.body)); got != tt.want {
			t.Errorf("IsBatch(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestSplitBatch(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		elems []string
		code  int // 0: success
	}{
		{"two requests", `[{"jsonrpc":"2.0","id":1,"method":"a"}, {"jsonrpc":"2.0","method":"b"}]`,
			[]string{`{"jsonrpc":"2.0","id":1,"method":"a"}`, `{"jsonrpc":"2.0","method":"b"}`}, 0},
		{"scalars are elements", `[1,"x",null]`, []string{`1`, `"x"`, `null`}, 0},
		{"nested array is an element", `[[{}]]`, []string{`[{}]`}, 0},
		{"empty", `[]`, nil, mcpproto.CodeInvalidRequest},
		{"empty with spaces", " [ ] ", nil, mcpproto.CodeInvalidRequest},
		{"malformed", `[{"jsonrpc":"2.0",`, nil, mcpproto.CodeParseError},
		{"trailing garbage", `[{}] x`, nil, mcpproto.CodeParseError},
		{"invalid UTF-8", "[{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}]", nil, mcpproto.CodeParseError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			elems, err := SplitBatch([]byte(tt.body))
			if tt.code != 0 {
				if err == nil || err.Code != tt.code || err.ID != nil {
					t.Fatalf("err = %v, want code %d without id", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitBatch: %v", err)
			}
			if len(elems) != len(tt.elems) {
				t.Fatalf("%d elements, want %d", len(elems), len(tt.elems))
			}
			for i := range elems {
				if string(elems[i]) != tt.elems[i] {
					t.Errorf("element %d = %s, want %s", i, elems[i], tt.elems[i])
				}
			}
		})
	}
}

func TestDecodeElement(t *testing.T) {
	tests := []struct {
		elem string
		kind Kind
		code int
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, KindRequest, 0},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled"}`, KindNotification, 0},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, 0, mcpproto.CodeInvalidRequest},
		{`1`, 0, mcpproto.CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, 0, mcpproto.CodeInvalidRequest},
	}
	for _, tt := range tests {
		m, err := DecodeElement([]byte(tt.elem))
		switch {
		case tt.code != 0 && (err == nil || err.Code != tt.code):
			t.Errorf("DecodeElement(%s) err = %v, want code %d", tt.elem, err, tt.code)
		case tt.code == 0 && (err != nil || m.Kind != tt.kind):
			t.Errorf("DecodeElement(%s) = %v, %v; want kind %v", tt.elem, m.Kind, err, tt.kind)
		}
	}
}

func TestAppendBatch(t *testing.T) {
	out := AppendBatch(nil, [][]byte{
		AppendResult(nil, []byte(`1`), []byte(`{}`)),
		AppendError(nil, nil, mcpproto.CodeInvalidRequest, "no", nil),
	})
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal(out, &arr); err != nil || len(arr) != 2 {
		t.Fatalf("AppendBatch = %s (%v)", out, err)
	}
	if string(AppendBatch(nil, [][]byte{[]byte(`{}`)})) != `[{}]` {
		t.Error("one element")
	}
}
