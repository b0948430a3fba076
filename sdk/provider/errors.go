package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors that handlers wrap (fmt.Errorf("%w: ...", provider.ErrNotFound)) so that the
// mesh answers with the right code. Their text reaches the client, so it must name only
// what the caller sent. Any other error is logged and answered as an internal error
// without its text.
var (
	// ErrNotFound: no tool, resource, prompt or completion reference has the name or
	// URI the caller sent.
	ErrNotFound = errors.New("not found")
	// ErrInvalidArgument: the request itself is malformed (a missing required prompt
	// argument, an unreadable completion reference). Bad tool arguments are not this:
	// MCP reports them as tool results with isError (see ToolError).
	ErrInvalidArgument = errors.New("invalid argument")
)

// ToolError is a failure the model should read: it becomes a tool result with isError
// and the message as its text, not a protocol error.
type ToolError struct{ Message string }

func (e *ToolError) Error() string { return e.Message }

// Errorf returns a *ToolError with a formatted message.
func Errorf(format string, args ...any) error {
	return &ToolError{Message: fmt.Sprintf(format, args...)}
}

// kindError is an error of one kind (ErrNotFound, ErrInvalidArgument) with a message
// of its own, so that the kind's name does not prefix the message.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// notFound and invalid build the SDK's own kindErrors.
func notFound(format string, args ...any) error {
	return &kindError{kind: ErrNotFound, msg: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return &kindError{kind: ErrInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

// toStatus maps a handler's error to a gRPC status: the only place that does. Errors
// that already carry a status pass unchanged, so a handler may choose its own code
// (status.Error(codes.Unavailable, ...)); callers pass errors unwrapped for that reason
// and name what failed in logger instead.
func toStatus(ctx context.Context, logger *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ErrInvalidArgument):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "call canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "call deadline exceeded")
	default:
		logger.ErrorContext(ctx, "provider handler failed", "error", err)
		return status.Error(codes.Internal, "internal error")
	}
}
