package jsonrpc

import (
	"strconv"
	"unicode/utf8"
)

// The encoders append to dst and return the extended slice. Raw inputs (ids, params,
// results, data) must be valid JSON; they are copied verbatim.

const prefix = `{"jsonrpc":"2.0"`

// AppendResult appends a success response. An empty result becomes {}.
func AppendResult(dst, id, result []byte) []byte {
	dst = append(dst, prefix...)
	dst = appendID(dst, id)
	dst = append(dst, `,"result":`...)
	if len(result) == 0 {
		return append(dst, "{}}"...)
	}
	dst = append(dst, result...)
	return append(dst, '}')
}

// AppendError appends an error response. A nil id is left out (parse errors and
// requests whose id could not be read); nil data is left out.
func AppendError(dst, id []byte, code int, message string, data []byte) []byte {
	dst = append(dst, prefix...)
	if id != nil {
		dst = appendID(dst, id)
	}
	dst = append(dst, `,"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, message)
	if len(data) > 0 {
		dst = append(dst, `,"data":`...)
		dst = append(dst, data...)
	}
	return append(dst, "}}"...)
}

// AppendNotification appends a notification; empty params are left out.
func AppendNotification(dst []byte, method string, params []byte) []byte {
	dst = append(dst, prefix...)
	return appendMethodParams(dst, method, params)
}

// AppendRequest appends a request (server-to-client requests, and tests).
func AppendRequest(dst, id []byte, method string, params []byte) []byte {
	dst = append(dst, prefix...)
	dst = appendID(dst, id)
	return appendMethodParams(dst, method, params)
}

func appendID(dst, id []byte) []byte {
	dst = append(dst, `,"id":`...)
	return append(dst, id...)
}

func appendMethodParams(dst []byte, method string, params []byte) []byte {
	dst = append(dst, `,"method":`...)
	dst = AppendString(dst, method)
	if len(params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Control characters, quotes and backslashes
// are escaped; invalid UTF-8 becomes U+FFFD, as encoding/json does, so the output is
// always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
