package jsonrpc

import (
	"github.com/mcpmesh/mcpmesh/services/kit/jsonenc"
	"strconv"
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
	dst = jsonenc.AppendString(dst, message)
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
	dst = jsonenc.AppendString(dst, method)
	if len(params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return append(dst, '}')
}
