package health

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestGRPCError(t *testing.T) {
	tests := []struct {
		err      error
		wantCode codes.Code
		wantMsg  string
	}{
		{nil, codes.OK, ""},
		{fmt.Errorf("start: %w", errStopped), codes.Unavailable, "health checker stopped"},
		{context.Canceled, codes.Canceled, "request canceled"},
		{fmt.Errorf("round: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "deadline exceeded before the health check finished"},
		{errors.New("secret internals at 10.0.0.7"), codes.Internal, "internal error"},
	}
	for _, tt := range tests {
		got := grpcError(tt.err)
		if (got == nil) != (tt.err == nil) {
			t.Fatalf("grpcError(%v) = %v", tt.err, got)
		}
		st := status.Convert(got)
		if st.Code() != tt.wantCode || (got != nil && st.Message() != tt.wantMsg) {
			t.Errorf("grpcError(%v) = %v %q, want %v %q", tt.err, st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
		}
	}
}
