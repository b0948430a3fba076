package pagetoken

import (
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		kind Kind
		key  string
	}{
		{Tools, "echo"},
		{Prompts, "everything.greet"},
		{Resources, "file:///tmp/a b?c=d"},
		{ResourceTemplates, "db://{table}/{id}"},
		{Tools, "ünïcødé"},
	}
	for _, tt := range tests {
		tok := Encode(tt.kind, tt.key)
		got, err := Decode(tt.kind, tok)
		if err != nil || got != tt.key {
			t.Errorf("Decode(Encode(%q)) = %q, %v", tt.key, got, err)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name  string
		kind  Kind
		token string
	}{
		{"not base64", Tools, "***"},
		{"padded base64", Tools, Encode(Tools, "ab") + "=="},
		{"kind only", Tools, Encode(Tools, "")},
		{"other list", Prompts, Encode(Tools, "echo")},
		{"invalid utf8", Tools, Encode(Tools, "\xff\xfe")},
		{"line break inside", Tools, "\rAA0"},
		{"too long", Tools, Encode(Tools, strings.Repeat("a", maxKeyBytes+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.kind, tt.token); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q) error = %v, want ErrInvalid", tt.token, err)
			}
		})
	}
}

func TestDecodeEmptyIsFirstPage(t *testing.T) {
	key, err := Decode(Tools, "")
	if err != nil || key != "" {
		t.Fatalf("Decode(\"\") = %q, %v; want first page", key, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(byte(Tools), "")
	f.Add(byte(Tools), Encode(Tools, "echo"))
	f.Add(byte(Prompts), Encode(Tools, "echo"))
	f.Add(byte(Resources), "AAAA")
	f.Add(byte(Resources), "%%%")
	f.Fuzz(func(t *testing.T, kind byte, token string) {
		key, err := Decode(Kind(kind), token)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if token == "" {
			return
		}
		// Whatever decodes must re-encode to the same token: cursors are canonical.
		if again := Encode(Kind(kind), key); again != token {
			t.Fatalf("Encode(Decode(%q)) = %q", token, again)
		}
	})
}
