package server_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/sessiontest"
)

const initBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// TestSessionLifecycle: initialize, use the session, listen, receive a server message,
// delete, and see every later use answered 404.
func TestSessionLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{retryMS: 1000})

	a := h.exchange(t, statefulMD("", "", acceptBoth), initBody)
	if a.head.GetHttpStatus() != 200 || a.head.GetFraming() != asJSON || a.head.GetSessionId() == "" {
		t.Fatalf("initialize head = %v", a.head)
	}
	if m := decodeMessage(t, a.msgs[0].GetData(), "0"); m.Result == nil {
		t.Fatalf("initialize answer %s has no result", a.msgs[0].GetData())
	}
	sid := a.head.GetSessionId()

	if a := h.exchange(t, statefulMD(sid, "", acceptBoth), rpc("", "notifications/initialized", "")); a.head.GetHttpStatus() != 202 {
		t.Fatalf("initialized notification: %v", a.head)
	}
	if got := h.session.Notifications(); !slices.Contains(got, "notifications/initialized") {
		t.Fatalf("session saw notifications %v", got)
	}
	if a := h.exchange(t, statefulMD(sid, v25, acceptBoth), rpc("1", "tools/list", "")); a.head.GetHttpStatus() != 200 {
		t.Fatalf("tools/list: %v", a.head)
	}

	// GET stream: head, then a message published by the session, then the end on DELETE.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	listen, err := h.client.Listen(ctx, &transportv1.ListenRequest{Metadata: statefulMD(sid, v25, acceptSSE)})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	first, err := listen.Recv()
	if err != nil || first.GetHead().GetHttpStatus() != 200 || first.GetHead().GetFraming() != asSSE || first.GetHead().GetRetryMs() != 1000 {
		t.Fatalf("Listen head = %v, %v", first, err)
	}
	priming, err := listen.Recv()
	if err != nil || !isPriming(priming.GetMessage()) || priming.GetMessage().GetEventId() != sessiontest.ListenOpenedID {
		t.Fatalf("Listen priming event = %v, %v; want the session's opening event id and no data", priming, err)
	}
	// The head is sent after the session's stream opened, so the publish cannot miss it.
	published := []*sessionv1.ListenResponse{
		{EventId: "s1", Event: &sessionv1.ListenResponse_Notification{Notification: &sessionv1.Notification{
			Method: "notifications/resources/updated", Params: []byte(`{"uri":"test://a"}`)}}},
		{EventId: "s2", Event: &sessionv1.ListenResponse_Request{Request: &sessionv1.ServerRequest{
			Id: []byte(`"r1"`), Method: "roots/list", Params: []byte(`{}`)}}},
	}
	want := []string{
		`{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"test://a"}}`,
		`{"jsonrpc":"2.0","id":"r1","method":"roots/list","params":{}}`,
	}
	for i, ev := range published {
		if n := h.session.Emit(sid, ev); n != 1 {
			t.Fatalf("published to %d Listen streams, want 1", n)
		}
		got, err := listen.Recv()
		if err != nil || string(got.GetMessage().GetData()) != want[i] || got.GetMessage().GetEventId() != ev.GetEventId() {
			t.Fatalf("Listen message = %v, %v; want %s with id %s", got, err, want[i], ev.GetEventId())
		}
	}

	closed, err := h.client.Close(ctx, &transportv1.CloseRequest{Metadata: statefulMD(sid, v25, acceptBoth)})
	if err != nil || closed.GetHttpStatus() != 204 || len(closed.GetBody()) != 0 {
		t.Fatalf("Close = %v, %v", closed, err)
	}
	// Deleting the session ends its GET stream normally.
	if ev, err := listen.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("Listen after close = %v, %v; want EOF", ev, err)
	}

	if a := h.exchange(t, statefulMD(sid, v25, acceptBoth), rpc("2", "tools/list", "")); a.head.GetHttpStatus() != 404 {
		t.Fatalf("tools/list after close: %v", a.head)
	}
	closed, err = h.client.Close(ctx, &transportv1.CloseRequest{Metadata: statefulMD(sid, v25, acceptBoth)})
	if err != nil || closed.GetHttpStatus() != 404 {
		t.Fatalf("second Close = %v, %v", closed, err)
	}
}

func TestInitializeSSEOnly(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	a := h.exchange(t, statefulMD("", "", acceptSSE), initBody)
	if a.head.GetFraming() != asSSE || a.head.GetSessionId() == "" || len(a.msgs) != 2 || !isPriming(a.msgs[0]) || a.msgs[1].GetEventId() == "" {
		t.Fatalf("initialize over SSE = %v %v, want a priming event and the result", a.head, a.msgs)
	}
	decodeMessage(t, a.msgs[1].GetData(), "0")
}

func TestListenAndCloseRejections(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name   string
		md     *transportv1.RequestMetadata
		status int32
		code   int // 0: no body
	}{
		{"stateless version", statefulMD(known, v26, acceptBoth), 405, 0},
		{"missing session id", statefulMD("", v25, acceptBoth), 400, -32600},
		{"unknown session", statefulMD("nope", v25, acceptBoth), 404, -32600},
		{"unsupported version", statefulMD(known, "1900-01-01", acceptBoth), 400, -32600},
	}
	for _, tt := range tests {
		t.Run("listen "+tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stream, err := h.client.Listen(ctx, &transportv1.ListenRequest{Metadata: tt.md})
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			a, err := collect(t, stream.Recv)
			if err != nil {
				t.Fatalf("Listen stream: %v", err)
			}
			checkFraming(t, a)
			if a.head.GetHttpStatus() != tt.status {
				t.Fatalf("status %d, want %d", a.head.GetHttpStatus(), tt.status)
			}
			if tt.code == 0 {
				if a.head.GetFraming() != none {
					t.Fatalf("framing %v, want none", a.head.GetFraming())
				}
				return
			}
			if m := decodeMessage(t, a.msgs[0].GetData(), ""); m.Error == nil || m.Error.Code != tt.code {
				t.Fatalf("body %s, want error %d", a.msgs[0].GetData(), tt.code)
			}
		})
	}
	for _, tt := range tests {
		t.Run("close "+tt.name, func(t *testing.T) {
			resp, err := h.client.Close(context.Background(), &transportv1.CloseRequest{Metadata: tt.md})
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
			if resp.GetHttpStatus() != tt.status {
				t.Fatalf("status %d, want %d", resp.GetHttpStatus(), tt.status)
			}
			if m := decodeMessage(t, resp.GetBody(), ""); m.Error == nil || (tt.code != 0 && m.Error.Code != tt.code) {
				t.Fatalf("body %s, want a JSON-RPC error", resp.GetBody())
			}
		})
	}
}

// TestListenEndsWithClient: cancelling the GET ends the server side too (goleak
// checks the handler goroutine is gone).
func TestListenEndsWithClient(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := h.client.Listen(ctx, &transportv1.ListenRequest{Metadata: statefulMD(known, v25, acceptSSE)})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if ev, err := stream.Recv(); err != nil || ev.GetHead().GetHttpStatus() != 200 {
		t.Fatalf("head = %v, %v", ev, err)
	}
	if ev, err := stream.Recv(); err != nil || !isPriming(ev.GetMessage()) {
		t.Fatalf("priming event = %v, %v", ev, err)
	}
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("Recv after cancel: %v", err)
	}
}

// TestExchangeCancellation: the gateway going away cancels the session's work.
func TestExchangeCancellation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := h.client.Exchange(ctx, &transportv1.ExchangeRequest{
		Metadata: statefulMD(known, v25, acceptBoth),
		Body:     []byte(rpc("1", sessiontest.MethodBlock, "")),
	})
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	waitFor(t, h.session.Blocked)
	cancel()
	if got := waitFor(t, h.session.Unblocked); !errors.Is(got, context.Canceled) {
		t.Fatalf("session context ended with %v, want canceled", got)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("Recv after cancel: %v", err)
	}
}

// TestExchangeHandleTimeout: handle_timeout bounds the session work; the client gets
// a 504 with a JSON-RPC error.
func TestExchangeHandleTimeout(t *testing.T) {
	h := newHarness(t, harnessOptions{handleTimeout: 50 * time.Millisecond})
	a := h.exchange(t, statefulMD(known, v25, acceptBoth), rpc("1", sessiontest.MethodBlock, ""))
	if a.head.GetHttpStatus() != 504 {
		t.Fatalf("status %d, want 504", a.head.GetHttpStatus())
	}
	if m := decodeMessage(t, a.msgs[0].GetData(), "1"); m.Error == nil || m.Error.Code != -32603 {
		t.Fatalf("body %s", a.msgs[0].GetData())
	}
	if got := waitFor(t, h.session.Unblocked); got == nil {
		t.Fatal("session context did not end")
	}
}

// waitFor bounds a wait on a test signal so a bug fails the test instead of hanging it.
func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatal("timed out waiting for the session")
		panic("unreachable")
	}
}
