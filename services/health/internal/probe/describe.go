package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Describe turns a failed check into a few words for people: "connection refused",
// "timeout after 2s". It never returns the raw error text, which carries internals.
// budget is how long the check was allowed to take.
func Describe(ctx context.Context, err error, budget time.Duration) string {
	if ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
		return fmt.Sprintf("timeout after %s", budget)
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled {
		return "check canceled"
	}
	// Transport failures are only told apart by their text.
	text := strings.ToLower(err.Error())
	switch {
	case strings.Contains(text, "connection refused"):
		return "connection refused"
	case strings.Contains(text, "no such host"):
		return "unknown host"
	case strings.Contains(text, "connection reset"):
		return "connection reset"
	case strings.Contains(text, "network is unreachable"), strings.Contains(text, "no route to host"):
		return "network unreachable"
	}
	switch code := status.Code(err); code {
	case codes.NotFound:
		return "service not registered with grpc health"
	case codes.Unimplemented:
		return "grpc health not served"
	case codes.Unavailable:
		return "unavailable"
	case codes.PermissionDenied:
		return "permission denied"
	case codes.Unauthenticated:
		return "unauthenticated"
	case codes.ResourceExhausted:
		return "overloaded"
	case codes.Internal:
		return "internal error"
	default:
		return "check failed"
	}
}
