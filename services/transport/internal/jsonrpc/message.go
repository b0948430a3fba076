package jsonrpc

import "encoding/json"

// Kind tells the three JSON-RPC message shapes apart.
type Kind uint8

const (
	// KindRequest has a method and an id: it expects a response.
	KindRequest Kind = iota + 1
	// KindNotification has a method and no id.
	KindNotification
	// KindResponse has an id and a result or an error (a client answering the server).
	KindResponse
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	default:
		return "unknown"
	}
}

// Message is one decoded, validated JSON-RPC message. Raw fields alias the decoded
// body's bytes where encoding/json allows (they are copies owned by the Message).
type Message struct {
	Kind Kind
	// ID is the raw JSON id (a string or an integer); nil for notifications and for
	// error responses without an id.
	ID json.RawMessage
	// Method is the unescaped method name; empty for responses.
	Method string
	// Params is the raw params object; nil when absent.
	Params json.RawMessage
	// Result is the raw result of a success response.
	Result json.RawMessage
	// Error is the raw error object of an error response.
	Error json.RawMessage
}

// Error is a decoding or validation failure, ready to answer as a JSON-RPC error.
type Error struct {
	Code    int
	Message string
	// ID is the request's raw id when it could be read and was valid, else nil: the
	// answer then carries no id.
	ID json.RawMessage
}

func (e *Error) Error() string { return e.Message }
