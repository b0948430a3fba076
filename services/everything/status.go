package everything

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/faults"
)

// toStatus maps the provider's errors to gRPC statuses: the only place that does.
// Domain errors carry only names the caller sent, so their text is safe to return;
// anything else is logged and masked.
func toStatus(ctx context.Context, logger *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, faults.ErrUnknownTool),
		errors.Is(err, faults.ErrUnknownResource),
		errors.Is(err, faults.ErrUnknownPrompt),
		errors.Is(err, faults.ErrUnknownReference):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, faults.ErrInvalidArgument):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, faults.ErrDeliberate):
		return status.Error(codes.Internal, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "call canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "call deadline exceeded")
	default:
		logger.ErrorContext(ctx, "everything provider failed", "error", err)
		return status.Error(codes.Internal, "internal error")
	}
}
