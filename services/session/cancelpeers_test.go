package session

import (
	"context"
	"testing"
	"time"
)

// TestCancelOnAnotherReplica: notifications/cancelled reaching one replica cancels the
// provider call running on another (they share a database, which carries the
// cancellation), and the call ends without a result.
func TestCancelOnAnotherReplica(t *testing.T) {
	db := newDB(t)
	a := newHarnessOn(t, db, true, nil)
	b := newHarnessOn(t, db, true, nil)
	waitFor(t, "b's notification listener", b.svc.backend.Listener.Healthy)
	sess := a.initialize(t, "2025-11-25")

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	call := stateful(sess, "tools/call", `{"name":"block"}`)
	call.RequestId = []byte(`"long-1"`)
	stream, err := b.client.Handle(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.provider.blockStarted:
	case <-ctx.Done():
		t.Fatal("the call never reached the provider")
	}
	cancelled := stateful(sess, "notifications/cancelled", `{"requestId":"long-1","reason":"user"}`)
	cancelled.Notification, cancelled.RequestId = true, nil
	if _, err := a.handle(t, cancelled); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.provider.blockEnded:
		if err == nil {
			t.Fatal("the provider call ended without being cancelled")
		}
	case <-ctx.Done():
		t.Fatal("the provider call on the other replica was not cancelled")
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			break // the stream ends: no result for a cancelled request
		}
		if ev.GetResult() != nil || ev.GetError() != nil {
			t.Fatalf("a cancelled request answered %v", ev)
		}
	}
}
