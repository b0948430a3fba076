package jsonvalue

import (
	"encoding/json"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
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
				back, err := protojson.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				assertSameJSON(t, back, []byte(tt.in))
			}
		})
	}
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
