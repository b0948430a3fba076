package server_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// TestLegacyConnection: GET /sse opens a connection whose id the head names; a POST
// for an unknown connection is 404; an accepted POST is 202 at once and its answer
// arrives on the connection's stream, initialize included (the session takes the
// connection's id); once the stream ends, the connection's POSTs are 404.
func TestLegacyConnection(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	connCtx, closeConn := context.WithCancel(ctx)
	defer closeConn()
	conn, err := h.client.LegacyConnect(connCtx, &transportv1.LegacyConnectRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := conn.Recv()
	if err != nil {
		t.Fatal(err)
	}
	head := first.GetHead()
	id := head.GetSessionId()
	if head.GetHttpStatus() != 200 || head.GetFraming() != transportv1.Framing_FRAMING_EVENT_STREAM || id == "" {
		t.Fatalf("head %v, want 200, an event stream and the connection's id", head)
	}
	next := func() string {
		t.Helper()
		ev, err := conn.Recv()
		if err != nil {
			t.Fatalf("connection stream: %v", err)
		}
		if ev.GetMessage().GetEventId() != "" {
			t.Errorf("legacy message has event id %q; the 2024-11-05 stream has none", ev.GetMessage().GetEventId())
		}
		return string(ev.GetMessage().GetData())
	}

	if got := h.legacyPost(t, ctx, "no-such-connection", `{"jsonrpc":"2.0","id":1,"method":"ping"}`); got != 404 {
		t.Fatalf("POST for an unknown connection: %d, want 404", got)
	}
	if got := h.legacyPost(t, ctx, id, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"old","version":"1"}}}`); got != 202 {
		t.Fatalf("POST initialize: %d, want 202", got)
	}
	if got := next(); !strings.HasPrefix(got, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2024-11-05"`) {
		t.Fatalf("initialize answered %s", got)
	}
	if got := h.legacyPost(t, ctx, id, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); got != 202 {
		t.Fatalf("POST tools/list: %d, want 202", got)
	}
	if got := next(); !strings.HasPrefix(got, `{"jsonrpc":"2.0","id":2,"result":`) {
		t.Fatalf("tools/list on the connection's session (the connection's id) answered %s", got)
	}
	if got := h.legacyPost(t, ctx, id, `{not json`); got != 202 {
		t.Fatalf("POST of a broken body: %d, want 202 (the error goes to the stream)", got)
	}
	if got := next(); !strings.Contains(got, `"code":-32700`) {
		t.Fatalf("broken body answered %s, want a parse error", got)
	}

	closeConn()
	eventually.True(t, 10*time.Second, func() bool {
		return h.legacyPost(t, ctx, id, `{"jsonrpc":"2.0","id":3,"method":"ping"}`) == 404
	}, "the connection's POSTs are refused after its stream ended")
}

// legacyPost sends one message of a connection and returns the head's status after
// reading the stream to its end (the message has run).
func (h *harness) legacyPost(tb testing.TB, ctx context.Context, id, body string) int32 {
	tb.Helper()
	stream, err := h.client.LegacyPost(ctx, &transportv1.LegacyPostRequest{ConnectionId: id, Body: []byte(body)})
	if err != nil {
		tb.Fatalf("LegacyPost: %v", err)
	}
	var heads []*transportv1.ResponseHead
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("LegacyPost stream: %v", err)
		}
		heads = append(heads, resp.GetHead())
	}
	if len(heads) != 1 || heads[0].GetFraming() != transportv1.Framing_FRAMING_NONE {
		tb.Fatalf("LegacyPost answered %v; want one head without a body", heads)
	}
	return heads[0].GetHttpStatus()
}
