package rest

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

func TestOpenJSONMarshaler(t *testing.T) {
	m := openJSONMarshaler{newRawJSON()}
	session := func(info string) *sessionv1.GetSessionResponse {
		return &sessionv1.GetSessionResponse{Session: &sessionv1.Session{Id: "s1", ClientInfo: []byte(info)}}
	}
	tests := []struct {
		name string
		msg  proto.Message
		// want is the clientInfo value as decoded from the output; nil: absent.
		want any
	}{
		{"JSON object", session(`{"name":"probe","version":"1.0"}`), map[string]any{"name": "probe", "version": "1.0"}},
		{"not JSON keeps base64", session("\xff\x00"), "/wA="},
		{"empty is absent", session(""), nil},
		{"other messages untouched", &healthv1.CheckResponse{Status: healthv1.Status_STATUS_SERVING}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := m.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			var got any
			if s, ok := doc["session"].(map[string]any); ok {
				got = s["clientInfo"]
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("clientInfo = %s, want %s (output %s)", gotJSON, wantJSON, out)
			}
			if _, ok := tt.msg.(*healthv1.CheckResponse); ok && doc["status"] != "STATUS_SERVING" {
				t.Errorf("health response changed: %s", out)
			}
		})
	}
}
