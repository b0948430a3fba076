package rest

import (
	"errors"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestPublicStatus(t *testing.T) {
	const detail = "pq: relation sessions does not exist at 10.1.2.3"
	tests := []struct {
		name       string
		err        error
		wantCode   codes.Code
		wantMasked bool
		wantHTTP   int
	}{
		{"plain error", errors.New(detail), codes.Internal, true, 500},
		{"internal", status.Error(codes.Internal, detail), codes.Internal, true, 500},
		{"unknown", status.Error(codes.Unknown, detail), codes.Unknown, true, 500},
		{"data loss", status.Error(codes.DataLoss, detail), codes.DataLoss, true, 500},
		{"unavailable", status.Error(codes.Unavailable, detail), codes.Unavailable, true, 503},
		{"deadline", status.Error(codes.DeadlineExceeded, detail), codes.DeadlineExceeded, true, 504},
		{"not found", status.Error(codes.NotFound, "unknown tool"), codes.NotFound, false, 404},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad name"), codes.InvalidArgument, false, 400},
		{"unimplemented", status.Error(codes.Unimplemented, "nope"), codes.Unimplemented, false, 501},
		{"public invalid argument", public(codes.InvalidArgument, "invalid arguments for tool add: /a: got string, want number (keyword type)"), codes.InvalidArgument, false, 400},
		{"public not found", public(codes.NotFound, "Unknown tool: nope"), codes.NotFound, false, 404},
		{"public needs input", public(codes.FailedPrecondition, "tool ask needs client input"), codes.FailedPrecondition, false, 400},
		{"public unavailable", public(codes.Unavailable, "tool t is unavailable: provider p did not answer"), codes.Unavailable, false, 503},
		{"public timeout", public(codes.DeadlineExceeded, "tool t timed out: provider p did not answer within 1s"), codes.DeadlineExceeded, false, 504},
		{"public internal", public(codes.Internal, "tool t returned an invalid result"), codes.Internal, false, 500},
		{"foreign ErrorInfo is masked", foreign(codes.Unavailable, detail), codes.Unavailable, true, 503},
		{"wrapped in HTTP status", &runtime.HTTPStatusError{HTTPStatus: 418, Err: status.Error(codes.Internal, detail)}, codes.Internal, true, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, masked := publicStatus(tc.err)
			if st.Code() != tc.wantCode || masked != tc.wantMasked {
				t.Fatalf("got %v masked=%v, want %v masked=%v", st.Code(), masked, tc.wantCode, tc.wantMasked)
			}
			if masked && strings.Contains(st.Message(), "10.1.2.3") {
				t.Errorf("masked message leaks: %q", st.Message())
			}
			if got := runtime.HTTPStatusFromCode(st.Code()); got != tc.wantHTTP {
				t.Errorf("HTTP status %d, want %d", got, tc.wantHTTP)
			}
		})
	}
}

// public is a status the session service writes for the caller.
func public(code codes.Code, msg string) error {
	st, err := status.New(code, msg).WithDetails(&errdetails.ErrorInfo{Domain: ErrorDomain, Reason: "X"})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// foreign carries an ErrorInfo of another domain: not the mesh's word.
func foreign(code codes.Code, msg string) error {
	st, err := status.New(code, msg).WithDetails(&errdetails.ErrorInfo{Domain: "googleapis.com", Reason: "X"})
	if err != nil {
		panic(err)
	}
	return st.Err()
}
