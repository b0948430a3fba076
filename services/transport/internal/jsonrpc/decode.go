package jsonrpc

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// envelope is what encoding/json fills: every member stays raw so that presence (nil)
// and JSON null ("null") can be told apart and nothing is re-encoded.
type envelope struct {
	JSONRPC json.RawMessage `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

var (
	errParse   = &Error{Code: mcpproto.CodeParseError, Message: "Parse error"}
	errUTF8    = &Error{Code: mcpproto.CodeParseError, Message: "Parse error: the body is not valid UTF-8"}
	errBatch   = &Error{Code: mcpproto.CodeInvalidRequest, Message: "Invalid Request: batches are not supported"}
	errNotObj  = &Error{Code: mcpproto.CodeInvalidRequest, Message: "Invalid Request: the body must be a JSON-RPC object"}
	errVersion = "Invalid Request: jsonrpc must be \"2.0\""
	errBadID   = &Error{Code: mcpproto.CodeInvalidRequest, Message: "Invalid Request: id must be a string or an integer"}
)

// Decode parses and validates one JSON-RPC message. On failure it returns an *Error
// carrying the JSON-RPC code and, when the id was readable and valid, the id.
func Decode(body []byte) (Message, *Error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return Message{}, errParse
	}
	// JSON text is UTF-8 (RFC 8259 §8.1). encoding/json would turn invalid bytes into
	// U+FFFD further on, so the tool would see text the client never sent.
	if !utf8.Valid(trimmed) {
		return Message{}, errUTF8
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return Message{}, errParse
		}
		if trimmed[0] == '[' {
			return Message{}, errBatch
		}
		return Message{}, errNotObj
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		// Every member is raw, so the only possible failure is a syntax error.
		return Message{}, errParse
	}
	return validate(&env)
}

func validate(env *envelope) (Message, *Error) {
	var m Message
	if env.ID != nil {
		if !validID(env.ID) {
			// A null id is allowed only on an error response (the client could not
			// read our request's id); everything else is answered without an id.
			if !isNull(env.ID) || env.Error == nil || env.Method != nil {
				return Message{}, errBadID
			}
		} else {
			m.ID = env.ID
		}
	}
	invalid := func(msg string) (Message, *Error) {
		return Message{}, &Error{Code: mcpproto.CodeInvalidRequest, Message: msg, ID: m.ID}
	}
	if !isVersion2(env.JSONRPC) {
		return invalid(errVersion)
	}
	if env.Method != nil {
		method, ok := DecodeString(env.Method)
		if !ok || method == "" {
			return invalid("Invalid Request: method must be a non-empty string")
		}
		if env.Result != nil || env.Error != nil {
			return invalid("Invalid Request: a request must not carry result or error")
		}
		m.Method = method
		m.Kind = KindNotification
		if m.ID != nil {
			m.Kind = KindRequest
		}
		if env.Params != nil {
			if env.Params[0] != '{' {
				return Message{}, &Error{Code: mcpproto.CodeInvalidParams, Message: "Invalid params: params must be an object", ID: m.ID}
			}
			m.Params = env.Params
		}
		return m, nil
	}
	// No method: a response.
	switch {
	case env.Result != nil && env.Error != nil:
		return invalid("Invalid Request: a response must carry result or error, not both")
	case env.Result != nil:
		if m.ID == nil {
			return invalid("Invalid Request: a result response needs an id")
		}
		m.Result = env.Result
	case env.Error != nil:
		if env.Error[0] != '{' {
			return invalid("Invalid Request: error must be an object")
		}
		m.Error = env.Error
	default:
		return invalid("Invalid Request: method is required")
	}
	if env.Params != nil {
		return invalid("Invalid Request: a response must not carry params")
	}
	m.Kind = KindResponse
	return m, nil
}

// validID accepts a JSON string or an integer in plain notation (no fraction, no
// exponent). The bytes come from a successful json.Unmarshal, so they are valid JSON.
func validID(raw json.RawMessage) bool {
	switch c := raw[0]; {
	case c == '"':
		return true
	case c == '-' || (c >= '0' && c <= '9'):
		for _, b := range raw[1:] {
			if b < '0' || b > '9' {
				return false
			}
		}
		return len(raw) > 1 || c != '-'
	default:
		return false
	}
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func isVersion2(raw json.RawMessage) bool {
	if string(raw) == `"2.0"` {
		return true
	}
	s, ok := DecodeString(raw)
	return ok && s == "2.0"
}

// DecodeString reads a raw JSON string, slicing it directly when it has no escapes;
// ok is false for any other JSON value.
func DecodeString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
