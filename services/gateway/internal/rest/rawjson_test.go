package rest

import (
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

func TestRawJSONDecodesBytesFieldsAsJSON(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    *sessionv1.CallToolRequest
		wantErr error
	}{
		{"object arguments", `{"name":"x","arguments":{"a":[1,2],"b":{"c":null}}}`,
			&sessionv1.CallToolRequest{Name: "x", Arguments: []byte(`{"a":[1,2],"b":{"c":null}}`)}, nil},
		{"large integer kept as written", `{"arguments":{"n":12345678901234567890}}`,
			&sessionv1.CallToolRequest{Arguments: []byte(`{"n":12345678901234567890}`)}, nil},
		{"null arguments are none", `{"arguments":null}`, &sessionv1.CallToolRequest{}, nil},
		{"unknown members ignored", `{"other":1}`, &sessionv1.CallToolRequest{}, nil},
		{"no body", ``, &sessionv1.CallToolRequest{}, io.EOF},
		{"not an object", `[1]`, nil, errNotObject},
	}
	m := newRawJSON()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got sessionv1.CallToolRequest
			err := m.NewDecoder(strings.NewReader(tc.body)).Decode(&got)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&got, tc.want) {
				t.Fatalf("decoded %v, want %v", &got, tc.want)
			}
		})
	}
}

func TestRawJSONWritesBytesBodyAsIs(t *testing.T) {
	m := newRawJSON()
	out, err := m.Marshal([]byte(`{"content":[],"isError":true}`))
	if err != nil || string(out) != `{"content":[],"isError":true}` {
		t.Fatalf("Marshal = %s, %v", out, err)
	}
	// Messages still go through protojson (camelCase names).
	out, err = m.Marshal(&sessionv1.GetSessionResponse{Session: &sessionv1.Session{ProtocolVersion: "2025-11-25"}})
	if err != nil || !strings.Contains(string(out), `"protocolVersion":"2025-11-25"`) {
		t.Fatalf("Marshal(message) = %s, %v", out, err)
	}
}
