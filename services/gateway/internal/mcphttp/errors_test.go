package mcphttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFailureFor(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{status.Error(codes.Unavailable, "x"), http.StatusServiceUnavailable},
		{status.Error(codes.DeadlineExceeded, "x"), http.StatusGatewayTimeout},
		{status.Error(codes.Internal, "x"), http.StatusInternalServerError},
		{status.Error(codes.Unknown, "x"), http.StatusInternalServerError},
		{status.Error(codes.NotFound, "x"), http.StatusInternalServerError},
		{status.Error(codes.ResourceExhausted, "x"), http.StatusInternalServerError},
		{errors.New("plain"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		f := failureFor(tc.err)
		if f.httpStatus != tc.want {
			t.Errorf("failureFor(%v) = %d, want %d", tc.err, f.httpStatus, tc.want)
		}
		if f.message == "" || f.message == "x" || f.message == "plain" {
			t.Errorf("failureFor(%v) message %q shows the error", tc.err, f.message)
		}
	}
}

func TestAppendRPCError(t *testing.T) {
	b := appendRPCError(nil, -32600, "quote \" and \n newline and <tag>")
	var got struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if got.JSONRPC != "2.0" || got.ID != nil || got.Error.Code != -32600 || got.Error.Message != "quote \" and \n newline and <tag>" {
		t.Errorf("decoded %+v from %s", got, b)
	}
}
