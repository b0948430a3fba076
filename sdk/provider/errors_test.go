package provider

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToStatus(t *testing.T) {
	tests := []struct {
		err  error
		want codes.Code
		msg  string
	}{
		{nil, codes.OK, ""},
		{notFound("unknown tool %q", "x"), codes.NotFound, `unknown tool "x"`},
		{fmt.Errorf("%w: no note 7", ErrNotFound), codes.NotFound, "not found: no note 7"},
		{fmt.Errorf("wrap: %w", ErrInvalidArgument), codes.InvalidArgument, "wrap: invalid argument"},
		{invalid("prompt %q needs argument %q", "p", "a"), codes.InvalidArgument, `prompt "p" needs argument "a"`},
		{context.Canceled, codes.Canceled, "call canceled"},
		{fmt.Errorf("slow: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "call deadline exceeded"},
		{status.Error(codes.Unavailable, "gone"), codes.Unavailable, "gone"},
		{errors.New("disk on fire at /secret/path"), codes.Internal, "internal error"},
	}
	for _, tt := range tests {
		got := toStatus(context.Background(), discardLogger(), tt.err)
		if status.Code(got) != tt.want || (got != nil && status.Convert(got).Message() != tt.msg) {
			t.Errorf("toStatus(%v) = %v, want %v %q", tt.err, got, tt.want, tt.msg)
		}
	}
}
