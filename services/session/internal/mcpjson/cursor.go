package mcpjson

import (
	"encoding/base64"
	"errors"
	"unicode/utf8"
)

// ErrInvalidCursor means a cursor was not one this service handed out.
var ErrInvalidCursor = errors.New("invalid cursor")

// maxCursorLen bounds what DecodeCursor accepts; keys are names and URIs.
const maxCursorLen = 8 << 10

// EncodeCursor returns the opaque cursor that continues a listing after key.
func EncodeCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// DecodeCursor returns the key a cursor continues after. The empty cursor starts at
// the beginning (the spec allows "" as a valid cursor) and returns "".
func DecodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	if len(c) > maxCursorLen {
		return "", ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || !utf8.Valid(b) {
		return "", ErrInvalidCursor
	}
	return string(b), nil
}
