package session

import (
	"context"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const connectionInitParams = `{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"legacy","version":"1"}}`

// TestOpenConnection: a 2024-11-05 connection reserves an id that Publish and
// Initialize accept before any session has it; what Publish records reaches the
// connection's stream before and after initialize; the session takes the id; and
// the session ends with the stream. In memory, the stream and the calls reach one
// replica; over PostgreSQL, the stream is on one replica and every call on another.
func TestOpenConnection(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		h := newHarness(t, true, nil)
		runOpenConnection(t, h, h)
	})
	t.Run("postgres, two replicas", func(t *testing.T) {
		db := newDB(t)
		runOpenConnection(t, newHarnessOn(t, db, true, nil), newHarnessOn(t, db, true, nil))
	})
}

// runOpenConnection holds the connection's stream on streamer and makes every other
// call on h.
func runOpenConnection(t *testing.T, streamer, h *harness) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	streamCtx, closeStream := context.WithCancel(ctx)
	defer closeStream()
	stream, err := streamer.client.OpenConnection(streamCtx, &sessionv1.OpenConnectionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	id := first.GetOpened().GetSessionId()
	if id == "" {
		t.Fatalf("first event %v, want opened with an id", first)
	}
	publish := func(id, msg string) error {
		_, err := h.client.Publish(ctx, &sessionv1.PublishRequest{SessionId: id, Messages: [][]byte{[]byte(msg)}})
		return err
	}
	next := func() []byte {
		t.Helper()
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("connection stream: %v", err)
		}
		if ev.GetMessage() == nil {
			t.Fatalf("event %v, want a published message", ev)
		}
		return ev.GetMessage()
	}

	// Before initialize: the id is known, and what is published reaches the stream.
	const early = `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"not initialized"}}`
	if err := publish(id, early); err != nil {
		t.Fatalf("publish before initialize: %v", err)
	}
	if got := next(); string(got) != early {
		t.Fatalf("stream got %s, want %s", got, early)
	}
	if err := publish("no-such-connection", early); status.Code(err) != codes.NotFound {
		t.Fatalf("publish to an unknown id: %v, want NotFound", err)
	}
	if _, err := h.client.Publish(ctx, &sessionv1.PublishRequest{SessionId: id, Messages: [][]byte{nil}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("publish of an empty message: %v, want InvalidArgument", err)
	}

	// Initialize: only an open connection's id is accepted, and only once.
	initialize := func(id string) (*sessionv1.InitializeResponse, error) {
		return h.client.Initialize(ctx, &sessionv1.InitializeRequest{Params: []byte(connectionInitParams), SessionId: id})
	}
	if _, err := initialize("no-such-connection"); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("initialize for an unknown connection: %v, want FailedPrecondition", err)
	}
	resp, err := initialize(id)
	if err != nil {
		t.Fatalf("initialize the connection's session: %v", err)
	}
	if got := resp.GetSession().GetId(); got != id {
		t.Fatalf("session id %q, want the connection's %q", got, id)
	}
	if _, err := initialize(id); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("second initialize of the connection: %v, want FailedPrecondition", err)
	}
	const answer = `{"jsonrpc":"2.0","id":2,"result":{}}`
	if err := publish(id, answer); err != nil {
		t.Fatalf("publish after initialize: %v", err)
	}
	if got := next(); string(got) != answer {
		t.Fatalf("stream got %s, want %s", got, answer)
	}

	// The session ends with the connection's stream.
	closeStream()
	eventually.True(t, 10*time.Second, func() bool {
		_, err := h.client.GetSession(ctx, &sessionv1.GetSessionRequest{SessionId: id})
		return status.Code(err) == codes.NotFound
	}, "the session of a closed connection is gone")
	// The session goes first and the connection's events after it (so that a publish
	// racing the close leaves nothing behind), and another replica may still hold the
	// session in its read cache for a moment: publishing is refused once both are gone.
	eventually.True(t, 10*time.Second, func() bool {
		return status.Code(publish(id, answer)) == codes.NotFound
	}, "publish to a closed connection is refused with NotFound")
}
