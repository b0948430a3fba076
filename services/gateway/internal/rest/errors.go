package rest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// publicStatus is the status a REST caller may see for err. Codes whose messages can
// carry internals (stack-level errors, dial errors with addresses) get a generic message
// with an id that is also logged; the second result says whether the error was masked.
// Other codes keep their message: peer services already mask their own internals.
func publicStatus(err error) (*status.Status, bool) {
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		err = httpErr.Err
	}
	st, ok := status.FromError(err)
	if !ok {
		return status.New(codes.Internal, "internal error"), true
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
func errorHandler(logger *slog.Logger) runtime.ErrorHandlerFunc {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		st, masked := publicStatus(err)
		if masked {
			id := errorID()
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

func errorID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WriteTooManyRequests answers a REST request that the gateway's rate limit rejected:
// 429 (the caller has set Retry-After) with grpc-gateway's error body and the code
// RESOURCE_EXHAUSTED, which grpc-gateway maps to 429 too.
func WriteTooManyRequests(w http.ResponseWriter, perSecond float64, retryAfter int) {
	msg, _ := json.Marshal("too many requests: this gateway accepts at most " +
		strconv.FormatFloat(perSecond, 'g', -1, 64) + " requests per second; retry after " +
		strconv.Itoa(retryAfter) + " s (Retry-After header)")
	body := `{"code":` + strconv.Itoa(int(codes.ResourceExhausted)) + `,"message":` + string(msg) + `,"details":[]}`
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, body)
}
