package jsonrpc

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":"s","method":"initialize","params":{"protocolVersion":"2025-11-25"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`,
		`{"jsonrpc":"2.0","id":1.5,"method":"a"}`,
		`{"jsonrpc":"2.0","id":1,"method":"a","params":[]}`,
		`{"jsonrpc":"2\u002e0","id":"\u00e9","method":"\ud83d\ude00"}`,
		`[{"jsonrpc":"2.0","id":1,"method":"a"}]`,
		`{"jsonrpc":"2.0","id":1,`,
		`null`, ``, `"x"`, `{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, derr := Decode(body)
		if derr != nil {
			answer := AppendError(nil, derr.ID, derr.Code, derr.Message, nil)
			if !json.Valid(answer) {
				t.Fatalf("error answer is not JSON: %s", answer)
			}
			return
		}
		var again []byte
		switch m.Kind {
		case KindRequest:
			again = AppendRequest(nil, m.ID, m.Method, m.Params)
		case KindNotification:
			again = AppendNotification(nil, m.Method, m.Params)
		case KindResponse:
			if m.Error != nil {
				// Re-encode the original error object verbatim instead.
				again = append(append(append([]byte(`{"jsonrpc":"2.0"`), idMember(m.ID)...), `,"error":`...), m.Error...)
				again = append(again, '}')
			} else {
				again = AppendResult(nil, m.ID, m.Result)
			}
		default:
			t.Fatalf("decoded message with no kind: %+v", m)
		}
		if !json.Valid(again) {
			t.Fatalf("re-encoding of %q is not JSON: %s", body, again)
		}
		m2, derr := Decode(again)
		if derr != nil {
			t.Fatalf("re-encoding %s does not decode: %v", again, derr)
		}
		if m2.Kind != m.Kind || !bytes.Equal(m2.ID, m.ID) || m2.Method != m.Method ||
			!bytes.Equal(m2.Params, m.Params) || !bytes.Equal(m2.Result, m.Result) || !bytes.Equal(m2.Error, m.Error) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
	})
}

func idMember(id []byte) []byte {
	if id == nil {
		return nil
	}
	return append([]byte(`,"id":`), id...)
}

// FuzzBatch: any body that looks like a batch splits into elements or yields an error
// that answers as valid JSON; every element decodes or yields one too.
func FuzzBatch(f *testing.F) {
	for _, seed := range []string{
		`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"n"}]`,
		`[]`, `[1,"x",null,[]]`, `[{"jsonrpc":"2.0","id":1,`, ` [ {"jsonrpc":"2.0","id":"a","result":{}} ] `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !IsBatch(body) {
			return
		}
		elems, derr := SplitBatch(body)
		if derr != nil {
			if answer := AppendError(nil, derr.ID, derr.Code, derr.Message, nil); !json.Valid(answer) {
				t.Fatalf("batch error answer is not JSON: %s", answer)
			}
			return
		}
		answers := make([][]byte, 0, len(elems))
		for _, e := range elems {
			if _, err := DecodeElement(e); err != nil {
				answers = append(answers, AppendError(nil, err.ID, err.Code, err.Message, nil))
			}
		}
		if len(answers) > 0 && !json.Valid(AppendBatch(nil, answers)) {
			t.Fatalf("batch answer is not JSON: %s", AppendBatch(nil, answers))
		}
	})
}
