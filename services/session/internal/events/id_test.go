package events

import "testing"

func TestIDRoundTrip(t *testing.T) {
	for _, seq := range []int64{0, 1, 42, 1<<63 - 1} {
		got, ok := ParseID(ID(seq))
		if !ok || got != seq {
			t.Errorf("ParseID(ID(%d)) = %d, %v", seq, got, ok)
		}
	}
}

func TestParseIDRejectsJunk(t *testing.T) {
	for _, id := range []string{
		"", "s", "7", "S7", "s-1", "s+1", "s 1", "s1 ", "s1.0", "sx", "s0x10",
		"s9223372036854775808",  // overflows int64
		"s00000000000000000001", // 20 digits
		"p1",                    // a POST stream's id
		"s\u0661",               // an Arabic-Indic digit
	} {
		if seq, ok := ParseID(id); ok {
			t.Errorf("ParseID(%q) = %d, true; want false", id, seq)
		}
	}
}

func TestWindowResumable(t *testing.T) {
	tests := []struct {
		name  string
		w     Window
		after int64
		want  bool
	}{
		{"empty log, from the start", Window{First: 1, Head: 0}, 0, true},
		{"empty log, a number it never gave", Window{First: 1, Head: 0}, 1, false},
		{"everything kept, from the start", Window{First: 1, Head: 5}, 0, true},
		{"at the head", Window{First: 1, Head: 5}, 5, true},
		{"beyond the head", Window{First: 1, Head: 5}, 6, false},
		{"just before the first kept", Window{First: 3, Head: 5}, 2, true},
		{"an event was dropped", Window{First: 3, Head: 5}, 1, false},
		{"all dropped, reader saw them all", Window{First: 6, Head: 5}, 5, true},
		{"all dropped, reader missed one", Window{First: 6, Head: 5}, 4, false},
		{"negative", Window{First: 1, Head: 5}, -1, false},
	}
	for _, tt := range tests {
		if got := tt.w.Resumable(tt.after); got != tt.want {
			t.Errorf("%s: %+v.Resumable(%d) = %v, want %v", tt.name, tt.w, tt.after, got, tt.want)
		}
	}
}
