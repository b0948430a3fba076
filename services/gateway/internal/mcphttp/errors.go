package mcphttp

import (
	"encoding/json"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// failure is what the client sees when the transport could not answer.
type failure struct {
	httpStatus int
	message    string // generic; the error id is appended
}

// failureFor maps a gRPC error from the transport (before any head was written) to an
// HTTP status and a message that shows no internals.
func failureFor(err error) failure {
	switch status.Code(err) {
	case codes.Unavailable:
		return failure{http.StatusServiceUnavailable, "service unavailable"}
	case codes.DeadlineExceeded:
		return failure{http.StatusGatewayTimeout, "upstream timeout"}
	default:
		return failure{http.StatusInternalServerError, "internal error"}
	}
}

// appendRPCError appends an id-less JSON-RPC error response, as MCP allows for errors
// not tied to a readable request.
func appendRPCError(b []byte, code int, message string) []byte {
	b = append(b, `{"jsonrpc":"2.0","error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	msg, _ := json.Marshal(message) // a string always marshals
	b = append(b, msg...)
	return append(b, "}}"...)
}

// writeRPCError writes a complete JSON-RPC error response.
func writeRPCError(w http.ResponseWriter, httpStatus, code int, message string) {
	writeBody(w, httpStatus, appendRPCError(nil, code, message))
}

// writeBody writes a complete application/json response.
func writeBody(w http.ResponseWriter, httpStatus int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// WriteTooManyRequests answers a request that the gateway's rate limit rejected: 429
// (the caller has set Retry-After) and an id-less JSON-RPC error saying when to retry.
func WriteTooManyRequests(w http.ResponseWriter, perSecond float64, retryAfter int) {
	writeRPCError(w, http.StatusTooManyRequests, mcpproto.CodeServerError, tooManyRequestsMessage(perSecond, retryAfter))
}

// WriteTooManyRequestsBecause answers 429 with a JSON-RPC error saying why (a
// per-caller limit); Retry-After is set by the caller.
func WriteTooManyRequestsBecause(w http.ResponseWriter, reason string) {
	writeRPCError(w, http.StatusTooManyRequests, mcpproto.CodeServerError, reason)
}

func tooManyRequestsMessage(perSecond float64, retryAfter int) string {
	return "Too Many Requests: this gateway accepts at most " + strconv.FormatFloat(perSecond, 'g', -1, 64) +
		" requests per second; retry after " + strconv.Itoa(retryAfter) + " s (Retry-After header)"
}

// CodeForbidden is the JSON-RPC error code of a call refused by policy.
const CodeForbidden = -32003

// WriteForbidden answers a call that policy refused: 403 and an id-less JSON-RPC error
// -32003 that says no more (nothing about what exists or why).
func WriteForbidden(w http.ResponseWriter) {
	writeRPCError(w, http.StatusForbidden, CodeForbidden, "Forbidden")
}

// WriteNotFound answers 404 with an id-less JSON-RPC error saying what is not there (a
// virtual server that is not configured).
func WriteNotFound(w http.ResponseWriter, message string) {
	writeRPCError(w, http.StatusNotFound, mcpproto.CodeInvalidRequest, message)
}
