package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMapSessionError(t *testing.T) {
	const secret = "password=hunter2"
	tests := []struct {
		err     error
		status  int
		code    int
		message string // substring
	}{
		{status.Error(codes.NotFound, secret), 404, -32600, "Session not found"},
		{status.Error(codes.FailedPrecondition, "session not initialized"), 400, -32600, "session not initialized"},
		{status.Error(codes.InvalidArgument, "protocolVersion is required"), 200, -32602, "protocolVersion is required"},
		{status.Error(codes.InvalidArgument, ""), 200, -32602, "invalid argument"},
		{status.Error(codes.Unauthenticated, secret), 401, -32600, "Unauthorized"},
		{status.Error(codes.PermissionDenied, secret), 403, -32600, "Forbidden"},
		{status.Error(codes.ResourceExhausted, secret), 429, -32603, "Too many"},
		{status.Error(codes.Unavailable, secret), 503, -32603, "unavailable"},
		{status.Error(codes.Canceled, secret), 503, -32603, "unavailable"},
		{status.Error(codes.DeadlineExceeded, secret), 504, -32603, "timed out"},
		{status.Error(codes.Internal, secret), 500, -32603, "Internal error"},
		{status.Error(codes.Unimplemented, secret), 500, -32603, "Internal error"},
		{errors.New(secret), 500, -32603, "Internal error"},
		{errNoResult, 500, -32603, "Internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			f := mapSessionError(tt.err)
			if f.httpStatus != tt.status || f.code != tt.code || !strings.Contains(f.message, tt.message) {
				t.Fatalf("got %+v, want %d %d %q", f, tt.status, tt.code, tt.message)
			}
			if strings.Contains(f.message, secret) {
				t.Fatalf("message %q leaks the session's detail", f.message)
			}
		})
	}
}

func TestStatusOfErrorEvents(t *testing.T) {
	for code, want := range map[int]int{-32601: 404, -32020: 400, -32021: 400, -32022: 400, -32602: 200, -32603: 200, 5: 200} {
		if got := statelessErrorStatus(code); got != want {
			t.Errorf("statelessErrorStatus(%d) = %d, want %d", code, got, want)
		}
		if got := statefulErrorStatus(code); got != 200 {
			t.Errorf("statefulErrorStatus(%d) = %d, want 200", code, got)
		}
	}
}

func TestEventIDs(t *testing.T) {
	var none *eventIDs
	if none.next() != "" {
		t.Fatal("nil eventIDs must give empty ids")
	}
	a, b := newEventIDs(), newEventIDs()
	first, second := a.next(), a.next()
	if first == second || !strings.HasPrefix(second, a.stream+"_") || !strings.HasSuffix(second, "_2") {
		t.Fatalf("ids %q %q", first, second)
	}
	if a.stream == b.stream {
		t.Fatal("two streams share an id prefix")
	}
}

// A failure the client cannot act on (5xx) carries an error id that is also in the
// log line with the cause, as docs/protocol.md promises; a 4xx names its own cause and
// needs none.
func TestSessionFailureCarriesErrorID(t *testing.T) {
	idInMessage := regexp.MustCompile(`\(id ([0-9a-f]{12})\)$`)
	tests := []struct {
		err    error
		status int
		wantID bool
	}{
		{status.Error(codes.Unavailable, "dial tcp 10.0.0.5:9090: connection refused"), 503, true},
		{status.Error(codes.DeadlineExceeded, "deadline"), 504, true},
		{status.Error(codes.Internal, "boom"), 500, true},
		{status.Error(codes.NotFound, "no session"), 404, false},
		{status.Error(codes.InvalidArgument, "bad"), 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			var logs bytes.Buffer
			s := New(Settings{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			f := s.sessionFailure(context.Background(), "tools/call", tt.err)
			if f.httpStatus != tt.status {
				t.Fatalf("status %d, want %d", f.httpStatus, tt.status)
			}
			m := idInMessage.FindStringSubmatch(f.message)
			if (m != nil) != tt.wantID {
				t.Fatalf("message %q: error id present = %v, want %v", f.message, m != nil, tt.wantID)
			}
			if m == nil {
				return
			}
			var line struct {
				ErrorID string `json:"error_id"`
				Error   string `json:"error"`
			}
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if line.ErrorID != m[1] || !strings.Contains(line.Error, status.Convert(tt.err).Message()) {
				t.Errorf("log line %+v does not carry id %s and the cause", line, m[1])
			}
		})
	}
}
