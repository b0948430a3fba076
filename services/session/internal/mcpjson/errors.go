package mcpjson

import (
	"encoding/json"
	"fmt"
)

// JSON-RPC and MCP error codes the session service returns.
const (
	CodeMethodNotFound   int32 = -32601
	CodeInvalidParams    int32 = -32602
	CodeInternal         int32 = -32603
	CodeResourceNotFound int32 = -32002
	// CodeMissingClientCapability is MissingRequiredClientCapability (2026-07-28).
	CodeMissingClientCapability int32 = -32021
)

// Error is a JSON-RPC error object. It is an error so that handlers can return it;
// the service sends it to the client as an error event, not as a gRPC failure.
type Error struct {
	Code    int32
	Message string
	// Data is optional JSON.
	Data []byte
}

func (e *Error) Error() string { return fmt.Sprintf("json-rpc error %d: %s", e.Code, e.Message) }

// Errorf builds an Error with a formatted message.
func Errorf(code int32, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithData returns e with data marshalled as JSON.
func (e *Error) WithData(data any) *Error {
	b, err := json.Marshal(data)
	if err == nil {
		e.Data = b
	}
	return e
}
