package mcpjson

import (
	"testing"
	"unicode/utf8"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, key := range []string{"a", "echo", "file:///{path}", "ünïcode", "with/slash?and=query"} {
		got, err := DecodeCursor(EncodeCursor(key))
		if err != nil || got != key {
			t.Errorf("round trip %q = %q, %v", key, got, err)
		}
	}
	tests := []struct {
		cursor string
		ok     bool
	}{
		{"", true},
		{"!!!", false},
		{"YQ", true},
		{"YQ==", false}, // padded: not what EncodeCursor produces
		{EncodeCursor("\xff\xfe"), false},
	}
	for _, tt := range tests {
		if _, err := DecodeCursor(tt.cursor); (err == nil) != tt.ok {
			t.Errorf("DecodeCursor(%q) error = %v, want ok=%v", tt.cursor, err, tt.ok)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "YQ", "!!!", "ZWNobw", "____", "YQ==", EncodeCursor("filler_3")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		key, err := DecodeCursor(cursor)
		if err != nil {
			return
		}
		if cursor != "" && (key == "" || !utf8.ValidString(key)) {
			t.Fatalf("DecodeCursor(%q) accepted %q", cursor, key)
		}
		if again, err := DecodeCursor(EncodeCursor(key)); key != "" && (err != nil || again != key) {
			t.Fatalf("re-encoding %q does not round-trip: %q %v", key, again, err)
		}
	})
}

func TestObject(t *testing.T) {
	got := string(NewObject(nil).String("a", "x\"y").RawIf("skip", nil).Raw("b", []byte(`[1]`)).Int("c", -3).
		Bool("d", true).Float("e", 0.5).StringIf("f", "").Bytes())
	want := `{"a":"x\"y","b":[1],"c":-3,"d":true,"e":0.5}`
	if got != want {
		t.Errorf("object = %s, want %s", got, want)
	}
}

func TestLogAllowed(t *testing.T) {
	tests := []struct {
		level, threshold string
		want             bool
	}{
		{"error", "warning", true},
		{"warning", "warning", true},
		{"info", "warning", false},
		{"debug", "debug", true},
		{"emergency", "debug", true},
		{"error", "", false},
		{"loud", "debug", false},
		{"error", "loud", false},
	}
	for _, tt := range tests {
		if got := LogAllowed(tt.level, tt.threshold); got != tt.want {
			t.Errorf("LogAllowed(%q, %q) = %v", tt.level, tt.threshold, got)
		}
	}
}

func TestObjectArray(t *testing.T) {
	items := [][]byte{[]byte(`{"a":1}`), []byte(`2`)}
	got := string(NewObject(nil).Array("x", 2, func(i int) []byte { return items[i] }).Array("y", 0, nil).Bytes())
	if got != `{"x":[{"a":1},2],"y":[]}` {
		t.Errorf("arrays = %s", got)
	}
}
