package jsonvalue

import (
	"encoding/json"
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
)

func TestStruct(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantNil bool
		wantErr error
		anyErr  bool
	}{
		{name: "absent", in: "", wantNil: true},
		{name: "object", in: `{"type":"object","properties":{"a":{"type":"number"}}}`},
		{name: "array", in: `[1,2]`, wantErr: ErrNotObject},
		{name: "string", in: `"x"`, wantErr: ErrNotObject},
		{name: "broken", in: `{"a":`, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Struct([]byte(tt.in))
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			case tt.anyErr:
				if err == nil {
					t.Fatal("want an error")
				}
				return
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if (got == nil) != tt.wantNil {
				t.Fatalf("got %v, wantNil %v", got, tt.wantNil)
			}
			if got != nil {
				back, err := ObjectBytes(got)
				if err != nil {
					t.Fatal(err)
				}
				assertSameJSON(t, back, []byte(tt.in))
			}
		})
	}
}

func TestList(t *testing.T) {
	l, err := List([]byte(`[{"type":"text","text":"hi"}]`))
	if err != nil || len(l.GetValues()) != 1 {
		t.Fatalf("List = %v, %v", l, err)
	}
	if _, err := List([]byte(`{}`)); !errors.Is(err, ErrNotArray) {
		t.Fatalf("List({}) err = %v, want ErrNotArray", err)
	}
	if l, err := List(nil); l != nil || err != nil {
		t.Fatalf("List(nil) = %v, %v", l, err)
	}
}

func TestObjectBytesNil(t *testing.T) {
	b, err := ObjectBytes(nil)
	if err != nil || string(b) != "{}" {
		t.Fatalf("ObjectBytes(nil) = %s, %v", b, err)
	}
	s, _ := structpb.NewStruct(map[string]any{"n": 1.5, "s": "x"})
	b, err = ObjectBytes(s)
	if err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, b, []byte(`{"n":1.5,"s":"x"}`))
}

func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want invalid JSON %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("JSON differs:\n got %s\nwant %s", gb, wb)
	}
}
