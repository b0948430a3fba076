// Package pagetoken encodes and decodes the registry's list cursors. A cursor names the
// last key a page returned (an exposed name, a URI or a URI template), so the next page
// starts after that key however the catalogue changed in between. Tokens are opaque to
// callers: base64url of a kind byte followed by the key.
package pagetoken

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// Kind tells which list a token belongs to, so a tools cursor is not accepted by the
// prompts list.
type Kind byte

// The lists that page.
const (
	Tools             Kind = 't'
	Resources         Kind = 'r'
	ResourceTemplates Kind = 'u'
	Prompts           Kind = 'p'
)

// maxKeyBytes bounds a key; no catalogue key is longer, and a bound keeps hostile
// tokens cheap to reject.
const maxKeyBytes = 4096

// ErrInvalid means the token was not issued by this registry for this list.
var ErrInvalid = errors.New("invalid page token")

// Encode returns the token that resumes kind's list after lastKey.
func Encode(kind Kind, lastKey string) string {
	buf := make([]byte, 0, 1+len(lastKey))
	buf = append(buf, byte(kind))
	buf = append(buf, lastKey...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Decode returns the last key named by token. An empty token means the first page and
// decodes to "" with no error.
func Decode(kind Kind, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	if base64.RawURLEncoding.DecodedLen(len(token)) > 1+maxKeyBytes {
		return "", ErrInvalid
	}
	// The decoder skips CR and LF; refusing them (and anything else outside the
	// alphabet) keeps exactly one token per key.
	if strings.IndexFunc(token, notInAlphabet) >= 0 {
		return "", ErrInvalid
	}
	raw, err := strictEncoding.DecodeString(token)
	if err != nil || len(raw) < 2 || Kind(raw[0]) != kind {
		return "", ErrInvalid
	}
	key := raw[1:]
	if !utf8.Valid(key) {
		return "", ErrInvalid
	}
	return string(key), nil
}

// strictEncoding rejects non-zero trailing bits, so every key has exactly one token.
var strictEncoding = base64.RawURLEncoding.Strict()

func notInAlphabet(r rune) bool {
	return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_'
}
