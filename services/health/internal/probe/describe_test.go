package probe

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestDescribe(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	live := context.Background()

	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"deadline passed", expired, status.Error(codes.Unavailable, "whatever"), "timeout after 2s"},
		{"deadline status", live, status.Error(codes.DeadlineExceeded, "context deadline exceeded"), "timeout after 2s"},
		{"canceled", canceled, errors.New("x"), "check canceled"},
		{"refused", live, status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 10.1.2.3:9001: connect: connection refused"`), "connection refused"},
		{"refused over http", live, fmt.Errorf("Get \"http://10.0.0.1/healthz\": dial tcp: connect: connection refused"), "connection refused"},
		{"dns", live, status.Error(codes.Unavailable, "dial tcp: lookup transport.internal: no such host"), "unknown host"},
		{"not found", live, status.Error(codes.NotFound, "unknown service"), "service not registered with grpc health"},
		{"unimplemented", live, status.Error(codes.Unimplemented, "unknown service grpc.health.v1.Health"), "grpc health not served"},
		{"other unavailable", live, status.Error(codes.Unavailable, "server at 10.0.0.9 closing"), "unavailable"},
		{"internal", live, status.Error(codes.Internal, "panic at /src/x.go:12"), "internal error"},
		{"plain error", live, errors.New("secret detail"), "check failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Describe(tt.ctx, tt.err, 2*time.Second); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}
