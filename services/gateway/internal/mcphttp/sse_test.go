package mcphttp

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestSSEWriterEvent(t *testing.T) {
	tests := []struct {
		name string
		id   string
		data string
		want string
	}{
		{"plain", "e1", `{"a":1}`, "id: e1\ndata: {\"a\":1}\n\n"},
		{"no id", "", `{}`, "data: {}\n\n"},
		{"priming", "e0", ``, "id: e0\ndata:\n\n"},
		{"newlines split", "", "{\n\"a\": 1\r\n}\r", "data: {\ndata: \"a\": 1\ndata: }\n\n"},
		{"id with newline dropped", "a\nb", `{}`, "data: {}\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := newSSEWriter(rec, 0)
			if err := w.event(tc.id, []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			w.close()
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("wrote %q, want %q", got, tc.want)
			}
			if !rec.Flushed {
				t.Error("event was not flushed")
			}
		})
	}
}

func TestSSEWriterRetryAndClose(t *testing.T) {
	rec := httptest.NewRecorder()
	w := newSSEWriter(rec, time.Hour)
	w.retryWithNextEvent(1500)
	if err := w.event("s_1", nil); err != nil { // the priming event carries the hint
		t.Fatal(err)
	}
	if err := w.event("s_2", []byte("{}")); err != nil { // later events do not
		t.Fatal(err)
	}
	w.close()
	w.ping() // a keepalive that fires after close must not write
	if err := w.event("x", []byte("{}")); err == nil {
		t.Error("event after close must fail")
	}
	if got, want := rec.Body.String(), "id: s_1\nretry: 1500\ndata:\n\nid: s_2\ndata: {}\n\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}
