package grpcserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// interceptors builds the one interceptor chain every mcpmesh gRPC server uses, for
// network servers and the in-process channel alike. Order matters, outermost first:
//  1. recovery: a panic anywhere below becomes an Internal error instead of a crash;
//  2. error masking: errors that are not gRPC statuses (internal details) reach the
//     caller as Internal with an id that is also in the log;
//  3. logging: one line per failed call (successes are counted by metrics, not logged).
//     Hand-written rather than go-grpc-middleware's logging interceptor, which builds
//     its log fields on every call (about 40 allocations) even when nothing is logged;
//  4. deadlines: unary calls without a deadline get the default one, so nothing hangs.
//     Streams are exempt: listen streams are meant to stay open.
func interceptors(logger *slog.Logger, defaultDeadline time.Duration) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	recoverOpt := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		id := errorID()
		logger.ErrorContext(ctx, "panic in gRPC handler", "error_id", id, "panic", p)
		return status.Errorf(codes.Internal, "internal error (id %s)", id)
	})
	return []grpc.UnaryServerInterceptor{
			recovery.UnaryServerInterceptor(recoverOpt),
			maskUnary(logger),
			logFailedUnary(logger),
			deadlineUnary(defaultDeadline),
		}, []grpc.StreamServerInterceptor{
			recovery.StreamServerInterceptor(recoverOpt),
			maskStream(logger),
			logFailedStream(logger),
		}
}

// levelFor logs expected outcomes at debug and failures by severity.
func levelFor(c codes.Code) slog.Level {
	switch c {
	case codes.OK, codes.Canceled, codes.NotFound, codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition:
		return slog.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return slog.LevelError
	default:
		return slog.LevelWarn
	}
}

func logFailedUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		if err != nil {
			logFailure(ctx, logger, info.FullMethod, start, err)
		}
		return resp, err
	}
}

func logFailedStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		if err != nil {
			logFailure(ss.Context(), logger, info.FullMethod, start, err)
		}
		return err
	}
}

func logFailure(ctx context.Context, logger *slog.Logger, method string, start time.Time, err error) {
	code := status.Code(err)
	level := levelFor(code)
	if !logger.Enabled(ctx, level) {
		return
	}
	logger.LogAttrs(ctx, level, "gRPC call failed",
		slog.String("grpc.method", method),
		slog.String("grpc.code", code.String()),
		slog.Duration("grpc.duration", time.Since(start)),
		slog.String("error", status.Convert(err).Message()))
}

// chainUnary folds interceptors into one, outermost first, for servers that take a
// single interceptor (the in-process channel).
func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		h := handler
		for i := len(ics) - 1; i >= 0; i-- {
			ic, next := ics[i], h
			h = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, next) }
		}
		return h(ctx, req)
	}
}

// chainStream is chainUnary for streams.
func chainStream(ics []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		h := handler
		for i := len(ics) - 1; i >= 0; i-- {
			ic, next := ics[i], h
			h = func(srv any, ss grpc.ServerStream) error { return ic(srv, ss, info, next) }
		}
		return h(srv, ss)
	}
}

// MaskError turns an error that is not already a gRPC status into Internal, logging the
// original with an id that the caller also sees. Context errors keep their meaning.
func MaskError(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	id := errorID()
	logger.ErrorContext(ctx, "internal error", "error_id", id, "grpc.method", method, "error", err)
	return status.Errorf(codes.Internal, "internal error (id %s)", id)
}

func maskUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		return resp, MaskError(ctx, logger, info.FullMethod, err)
	}
}

func maskStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return MaskError(ss.Context(), logger, info.FullMethod, handler(srv, ss))
	}
}

func deadlineUnary(d time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if _, ok := ctx.Deadline(); ok || d <= 0 {
			return handler(ctx, req)
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return handler(ctx, req)
	}
}

func errorID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
