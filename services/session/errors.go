package session

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/rpcstatus"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/pending"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain errors of the service edge.
var (
	errInvalidRequest  = errors.New("invalid request")
	errVersionMismatch = errors.New("protocol version mismatch")
)

// publicError carries a message meant for the caller next to the domain error that
// decides the status code.
type publicError struct {
	msg string
	err error
}

func (e *publicError) Error() string { return e.msg }
func (e *publicError) Unwrap() error { return e.err }

func public(kind error, format string, args ...any) error {
	return &publicError{msg: fmt.Sprintf(format, args...), err: kind}
}

// toStatus is the one place where domain errors become gRPC statuses. Errors it does
// not know are logged with an id and reach the caller as Internal.
func (s *Service) toStatus(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var rpcErr *mcpjson.Error
	var denial *dispatch.Denial
	msg := func(fallback string) string {
		var pe *publicError
		if errors.As(err, &pe) {
			return pe.msg
		}
		return fallback
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, msg("session not found"))
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, events.ErrUnavailable), errors.Is(err, pending.ErrUnavailable):
		// The cause (host, port, driver detail) is for operators, not callers.
		s.logger.WarnContext(ctx, "session store unavailable", "grpc.method", method, "error", err)
		return status.Error(codes.Unavailable, "session store unavailable, retry")
	case errors.Is(err, errConnectionNotOpen):
		return status.Error(codes.FailedPrecondition, msg("connection not open"))
	case errors.Is(err, errVersionMismatch):
		return status.Error(codes.FailedPrecondition, msg("protocol version does not match the session"))
	case errors.Is(err, errInvalidRequest):
		return status.Error(codes.InvalidArgument, msg("invalid request"))
	case errors.As(err, &denial):
		return denialStatus(denial)
	case errors.As(err, &rpcErr):
		return callStatus(rpcErr)
	case dispatch.ErrCancelled(err), errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	default:
		return grpcserver.MaskError(ctx, s.logger, method, err)
	}
}

// errorDomain marks the statuses whose message is written for the caller: the
// gateway shows them as they are (services/gateway/internal/rest).
const errorDomain = rpcstatus.Domain

// callStatuses turns the kind of a JSON-RPC error of the unary calls into a gRPC code;
// the gateway's REST mapping makes it an HTTP status (table in docs/protocol.md).
var callStatuses = map[mcpjson.Class]codes.Code{
	mcpjson.ClassInvalid:     codes.InvalidArgument,
	mcpjson.ClassNotFound:    codes.NotFound,
	mcpjson.ClassNeedsInput:  codes.FailedPrecondition,
	mcpjson.ClassUnavailable: codes.Unavailable,
	mcpjson.ClassTimeout:     codes.DeadlineExceeded,
	mcpjson.ClassFailed:      codes.Internal,
}

// callStatus is the status of a unary call that failed the way an MCP request fails
// with a JSON-RPC error: same message, and an ErrorInfo that carries the JSON-RPC
// code and data.
func callStatus(e *mcpjson.Error) error {
	code, ok := callStatuses[e.ClassOf()]
	if !ok {
		code = codes.Internal
	}
	return rpcstatus.Error(code, code.String(), int(e.Code), e.Message, e.Data)
}

// The denial contract with the gateway: PermissionDenied with an ErrorInfo of this
// domain, whose reason says whether a step-up can help.
const (
	authDomain              = "mcpmesh.dev"
	reasonInsufficientScope = "INSUFFICIENT_SCOPE"
	reasonPolicyDenied      = "POLICY_DENIED"
)

// denialStatus is the status of a request the policy refused. Its message and details
// name no capability, rule or condition: a refused name and an unknown one look alike.
func denialStatus(d *dispatch.Denial) error {
	info := &errdetails.ErrorInfo{Domain: authDomain, Reason: reasonPolicyDenied}
	msg := "forbidden"
	if d.Outcome == policy.MissingScopes {
		info.Reason = reasonInsufficientScope
		info.Metadata = map[string]string{"scopes": strings.Join(d.Scopes, " ")}
		msg = "insufficient scope"
	}
	st, err := status.New(codes.PermissionDenied, msg).WithDetails(info)
	if err != nil {
		return status.Error(codes.PermissionDenied, msg)
	}
	return st.Err()
}
