package jsonrpc

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// Answers to a batch as a whole (JSON-RPC 2.0 §6: an empty or unreadable batch gets
// one error object, not an array).
var (
	errEmptyBatch = &Error{Code: mcpproto.CodeInvalidRequest, Message: "Invalid Request: empty batch"}
	errNested     = &Error{Code: mcpproto.CodeInvalidRequest, Message: "Invalid Request: a batch must not contain a batch"}
)

// IsBatch reports whether a body is a JSON array (a JSON-RPC batch), judged by its
// first non-space byte; whether it is valid JSON is SplitBatch's business.
func IsBatch(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '['
}

// SplitBatch parses a batch into its elements, each still raw. Malformed JSON is a
// parse error and an empty array -32600, both answered without an id.
func SplitBatch(body []byte) ([]json.RawMessage, *Error) {
	if !utf8.Valid(body) {
		return nil, errUTF8
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, errParse
	}
	if len(elems) == 0 {
		return nil, errEmptyBatch
	}
	return elems, nil
}

// DecodeElement decodes one element of a batch: like Decode, except that an element
// that is itself an array is -32600 (batches do not nest).
func DecodeElement(elem []byte) (Message, *Error) {
	if IsBatch(elem) {
		return Message{}, errNested
	}
	return Decode(elem)
}

// AppendBatch appends the responses of a batch as one JSON array. Every element must
// be one encoded JSON-RPC response.
func AppendBatch(dst []byte, responses [][]byte) []byte {
	dst = append(dst, '[')
	for i, r := range responses {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, r...)
	}
	return append(dst, ']')
}
