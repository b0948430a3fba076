package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
)

// Domain errors. Handlers return them wrapped in a *clientError that carries the
// message callers may see; statusOf turns them into gRPC statuses in one place.
var (
	errInvalidArgument     = errors.New("invalid argument")
	errNotFound            = errors.New("not found")
	errAlreadyExists       = errors.New("already exists")
	errPermissionDenied    = errors.New("permission denied")
	errProviderUnavailable = errors.New("provider unavailable")
	errShuttingDown        = errors.New("registry shutting down")
	errStoreUnavailable    = errors.New("registry store unavailable")
)

// codeOf is the one mapping from domain errors to gRPC codes.
var codeOf = []struct {
	kind error
	code codes.Code
}{
	{errInvalidArgument, codes.InvalidArgument},
	{errNotFound, codes.NotFound},
	{errAlreadyExists, codes.AlreadyExists},
	{errPermissionDenied, codes.PermissionDenied},
	{errProviderUnavailable, codes.Unavailable},
	{errShuttingDown, codes.Unavailable},
	{errStoreUnavailable, codes.Unavailable},
}

// clientError is a domain error with a message safe to show callers. The cause stays
// out of the message (it may hold addresses of internal hops or provider internals)
// and goes to the log instead.
type clientError struct {
	kind  error
	msg   string
	cause error
}

func (e *clientError) Error() string {
	if e.cause == nil {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

func (e *clientError) Unwrap() []error { return []error{e.kind, e.cause} }

// fail builds a clientError of kind with a caller-visible message.
func fail(kind, cause error, format string, args ...any) error {
	return &clientError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

// statusOf turns a handler's error into a gRPC status error: domain errors by codeOf,
// context errors by their meaning, anything else masked as Internal with an id that is
// also logged.
func statusOf(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrUnavailable) {
		err = fail(errStoreUnavailable, err, "registry store unavailable, retry")
	}
	var ce *clientError
	if errors.As(err, &ce) {
		for _, m := range codeOf {
			if errors.Is(ce.kind, m.kind) {
				if ce.cause != nil && m.code != codes.InvalidArgument && m.code != codes.NotFound {
					logger.WarnContext(ctx, "registry call failed", "grpc.method", method, "error", err)
				}
				return status.Error(m.code, ce.msg)
			}
		}
	}
	return grpcserver.MaskError(ctx, logger, method, err)
}
