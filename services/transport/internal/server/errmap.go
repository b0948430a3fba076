package server

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// failure is what a client sees for a failed session-service call.
type failure struct {
	httpStatus int
	code       int
	message    string
}

// Messages of masked failures: they never carry internals.
const (
	msgSessionNotFound = "Session not found: re-initialize"
	msgUnavailable     = "Service unavailable: try again later"
	msgTimeout         = "Request timed out"
	msgInternal        = "Internal error"
)

// mapSessionError turns an error of a SessionService call into the HTTP status and
// JSON-RPC error of the answer. This is the one place where session gRPC codes become
// wire errors. InvalidArgument and FailedPrecondition carry the session's message,
// which the session service writes for clients (for example an unsupported version);
// every other code gets a fixed message.
func mapSessionError(err error) failure {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.NotFound:
		return failure{404, mcpproto.CodeInvalidRequest, msgSessionNotFound}
	case codes.FailedPrecondition:
		return failure{400, mcpproto.CodeInvalidRequest, "Bad Request: " + clipMessage(st.Message(), "precondition failed")}
	case codes.InvalidArgument:
		return failure{200, mcpproto.CodeInvalidParams, "Invalid params: " + clipMessage(st.Message(), "invalid argument")}
	case codes.Unauthenticated:
		return failure{401, mcpproto.CodeInvalidRequest, "Unauthorized"}
	case codes.PermissionDenied:
		return failure{403, mcpproto.CodeInvalidRequest, "Forbidden"}
	case codes.ResourceExhausted:
		return failure{429, mcpproto.CodeInternalError, "Too many requests: try again later"}
	case codes.Unavailable, codes.Canceled:
		return failure{503, mcpproto.CodeInternalError, msgUnavailable}
	case codes.DeadlineExceeded:
		return failure{504, mcpproto.CodeInternalError, msgTimeout}
	default:
		return failure{500, mcpproto.CodeInternalError, msgInternal}
	}
}

func clipMessage(s, fallback string) string {
	const max = 200
	switch {
	case s == "":
		return fallback
	case len(s) > max:
		return s[:max] + "..."
	default:
		return s
	}
}

// statelessErrorStatus is the HTTP status of a JSON-RPC error returned by the session
// for a 2026-07-28 request: 404 for method not found, 400 for the transport-level
// codes the spec sends with 400, else 200 with the error body.
func statelessErrorStatus(code int) int {
	switch code {
	case mcpproto.CodeMethodNotFound:
		return 404
	case mcpproto.CodeHeaderMismatch, mcpproto.CodeMissingClientCapability, mcpproto.CodeUnsupportedProtocolVersion:
		return 400
	default:
		return 200
	}
}

// statefulErrorStatus: JSON-RPC errors of the stateful generation travel with 200.
func statefulErrorStatus(int) int { return 200 }
