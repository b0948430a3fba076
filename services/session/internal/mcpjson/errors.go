package mcpjson

import (
	"encoding/json"
	"fmt"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// The JSON-RPC and MCP error codes the session service returns, typed for
// sessionv1.Error (the values are kit/mcpproto's).
const (
	CodeMethodNotFound          int32 = mcpproto.CodeMethodNotFound
	CodeInvalidParams           int32 = mcpproto.CodeInvalidParams
	CodeInternal                int32 = mcpproto.CodeInternalError
	CodeResourceNotFound        int32 = mcpproto.CodeResourceNotFound
	CodeMissingClientCapability int32 = mcpproto.CodeMissingClientCapability
	// CodeHeaderMismatch is HeaderMismatch (2026-07-28): HTTP headers and body disagree.
	CodeHeaderMismatch int32 = mcpproto.CodeHeaderMismatch
)

// Error is a JSON-RPC error object. It is an error so that handlers can return it;
// the service sends it to the client as an error event, not as a gRPC failure.
type Error struct {
	Code    int32
	Message string
	// Data is optional JSON.
	Data []byte
	// Class says what went wrong in terms callers without JSON-RPC understand (the
	// REST API's HTTP statuses); ClassOf derives it from Code when it is not set.
	Class Class
}

// Class classifies an Error beyond its JSON-RPC code: -32602 covers both an unknown
// tool and a bad argument, -32603 both a provider that did not answer and one that
// failed, and REST callers must tell them apart.
type Class uint8

const (
	// ClassUnset means: derive the kind from the code (see ClassOf).
	ClassUnset Class = iota
	// ClassInvalid: the request is wrong (params, arguments, requestState).
	ClassInvalid
	// ClassNotFound: no such tool, prompt, resource or method.
	ClassNotFound
	// ClassNeedsInput: the provider needs client input that the caller cannot give.
	ClassNeedsInput
	// ClassUnavailable: the provider did not answer (down, circuit open) or the mesh
	// is not ready; retrying later may work.
	ClassUnavailable
	// ClassTimeout: the provider did not answer within the call's timeout.
	ClassTimeout
	// ClassFailed: the provider or the mesh failed.
	ClassFailed
)

// ClassOf returns e's class, derived from its code when it was not set.
func (e *Error) ClassOf() Class {
	if e.Class != ClassUnset {
		return e.Class
	}
	switch e.Code {
	case CodeInvalidParams:
		return ClassInvalid
	case CodeMethodNotFound, CodeResourceNotFound:
		return ClassNotFound
	case CodeMissingClientCapability:
		return ClassNeedsInput
	default:
		return ClassFailed
	}
}

// Classed returns e with its class set.
func (e *Error) Classed(c Class) *Error {
	e.Class = c
	return e
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
