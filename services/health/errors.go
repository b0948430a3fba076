package health

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcError is the one place where the service's errors become gRPC statuses. Messages
// are fixed texts: no internals reach callers.
func grpcError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errStopped):
		return status.Error(codes.Unavailable, "health checker stopped")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded before the health check finished")
	default:
		return status.Error(codes.Internal, "internal error")
	}
}
