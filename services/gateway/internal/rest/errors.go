package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/errorid"
)

// publicStatus is the status a REST caller may see for err. Codes whose messages can
// carry internals (stack-level errors, dial errors with addresses) get a generic message
// with an id that is also logged; the second result says whether the error was masked.
// Other codes keep their message: peer services already mask their own internals. A
// status that carries the mesh's ErrorInfo (see IsPublic) is the session service's
// answer to a call, written for the caller, and is kept whatever its code.
//
// HTTP statuses follow grpc-gateway's mapping of the code; for calls
// (POST /v1/tools/{name}:call, /v1/resources:read, /v1/prompts/{name}:get):
//
//	INVALID_ARGUMENT     400  bad params or arguments (JSON-RPC -32602)
//	NOT_FOUND            404  unknown tool, prompt or resource
//	FAILED_PRECONDITION  400  the provider needs client input (only /mcp can give it)
//	UNAVAILABLE          503  the provider did not answer, its circuit is open, or the
//	                          catalogue is not loaded yet
//	DEADLINE_EXCEEDED    504  the provider did not answer within session.tool_call_timeout
//	INTERNAL             500  the provider failed or returned an invalid result
//
// An oversized body is 413 (WriteTooLarge), a rate-limited request 429.
func publicStatus(err error) (*status.Status, bool) {
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		err = httpErr.Err
	}
	st, ok := status.FromError(err)
	if !ok {
		return status.New(codes.Internal, "internal error"), true
	}
	if IsPublic(st) {
		return st, false
	}
	switch st.Code() {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return status.New(st.Code(), "internal error"), true
	case codes.Unavailable:
		return status.New(codes.Unavailable, "service unavailable"), true
	case codes.DeadlineExceeded:
		return status.New(codes.DeadlineExceeded, "deadline exceeded"), true
	default:
		return st, false
	}
}

// errorHandler writes grpc-gateway's usual error body (code, message, details) with the
// HTTP status grpc-gateway maps from the code, after masking.
func errorHandler(logger *slog.Logger, denied func(http.ResponseWriter, *http.Request, error) bool) runtime.ErrorHandlerFunc {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		if denied != nil && denied(w, r, err) {
			return
		}
		st, masked := publicStatus(err)
		if masked {
			id := errorid.New()
			logger.ErrorContext(ctx, "REST call failed", "error_id", id, "path", r.URL.Path, "error", err)
			st = status.New(st.Code(), st.Message()+" (id "+id+")")
		}
		var httpErr *runtime.HTTPStatusError
		if errors.As(err, &httpErr) {
			runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpErr.HTTPStatus, Err: st.Err()})
			return
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, st.Err())
	}
}

// ErrorDomain is the google.rpc.ErrorInfo domain of errors the mesh's services write
// for the caller (the session service's call errors).
const ErrorDomain = "mcpmesh"

// IsPublic reports whether st carries the mesh's ErrorInfo: its message names the
// problem for the caller, exactly as the MCP path does, and holds no internals.
func IsPublic(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return true
		}
	}
	return false
}

// WriteTooLarge answers a REST request whose body exceeds the gateway's limit: 413,
// with the message /mcp uses for the same case.
func WriteTooLarge(w http.ResponseWriter, limit int64) {
	writeError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument,
		"request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes")
}

// WriteTooManyRequests answers a REST request that the gateway's rate limit rejected:
// 429 (the caller has set Retry-After) with grpc-gateway's error body and the code
// RESOURCE_EXHAUSTED, which grpc-gateway maps to 429 too.
func WriteTooManyRequests(w http.ResponseWriter, perSecond float64, retryAfter int) {
	writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted, "too many requests: this gateway accepts at most "+
		strconv.FormatFloat(perSecond, 'g', -1, 64)+" requests per second; retry after "+
		strconv.Itoa(retryAfter)+" s (Retry-After header)")
}

// WriteTooManyRequestsBecause answers 429 saying why (a per-caller limit);
// Retry-After is set by the caller.
func WriteTooManyRequestsBecause(w http.ResponseWriter, reason string) {
	writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted, reason)
}

// writeError writes grpc-gateway's error body for an answer the gateway gives itself.
func writeError(w http.ResponseWriter, httpStatus int, code codes.Code, message string) {
	msg, _ := json.Marshal(message)
	body := `{"code":` + strconv.Itoa(int(code)) + `,"message":` + string(msg) + `,"details":[]}`
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(httpStatus)
	_, _ = io.WriteString(w, body)
}

// WriteForbidden answers a call that policy refused: 403 with no hint of what exists.
func WriteForbidden(w http.ResponseWriter) {
	writeError(w, http.StatusForbidden, codes.PermissionDenied, "Forbidden")
}

// WriteNotFound answers 404 with message (a path the API does not serve).
func WriteNotFound(w http.ResponseWriter, message string) {
	writeError(w, http.StatusNotFound, codes.NotFound, message)
}
