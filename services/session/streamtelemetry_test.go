package session

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
)

// TestStreamMetrics: a Listen stream resumed with Last-Event-ID counts the events it
// replays and is counted while open; an id that cannot be resumed is counted as
// refused.
func TestStreamMetrics(t *testing.T) {
	h := newObservedHarness(t)
	sess := h.initialize(t, "2025-11-25")
	for range 3 {
		if err := h.svc.backend.Events.Append(t.Context(), sess.GetId(), events.Draft{Method: "notifications/tools/list_changed", Params: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	stream, err := h.client.Listen(ctx, &sessionv1.ListenRequest{SessionId: sess.GetId(), LastEventId: events.ID(1)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // opened, then events 2 and 3
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	refused, err := h.client.Listen(ctx, &sessionv1.ListenRequest{SessionId: sess.GetId(), LastEventId: "s999"})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := refused.Recv(); err != nil || !first.GetOpened().GetRestarted() {
		t.Fatalf("opened = %v, %v; want a restarted stream", first, err)
	}

	values := func() map[string]int64 {
		var rm metricdata.ResourceMetrics
		if err := h.reader.Collect(t.Context(), &rm); err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if d, ok := m.Data.(metricdata.Sum[int64]); ok && len(d.DataPoints) > 0 {
					out[m.Name] = d.DataPoints[0].Value
				}
			}
		}
		return out
	}
	got := values()
	for name, want := range map[string]int64{
		"mcpmesh.session.events.replayed":     2,
		"mcpmesh.session.listen.streams":      2,
		"mcpmesh.session.resumptions.refused": 1,
	} {
		if got[name] != want {
			t.Errorf("%s = %d, want %d (all: %v)", name, got[name], want, got)
		}
	}
	cancel()
	eventually.True(t, 10*time.Second, func() bool { return values()["mcpmesh.session.listen.streams"] == 0 },
		"closed streams are no longer counted")
}

// TestListenKeepsTheSessionAlive: a client that only listens keeps its session; when
// the session is deleted, its stream ends.
func TestListenKeepsTheSessionAlive(t *testing.T) {
	h := newHarness(t, true, func(c *Config) { c.SessionIdleTimeout = 3 * time.Second })
	sess := h.initialize(t, "2025-11-25")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	stream, err := h.client.Listen(ctx, &sessionv1.ListenRequest{SessionId: sess.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	// Wait past the idle timeout, watching the record's last-seen time move.
	first := sess.GetLastSeenUnixMs()
	// Touched by the stream after the idle timeout would have passed.
	eventually.True(t, 10*time.Second, func() bool {
		got, err := h.client.GetSession(ctx, &sessionv1.GetSessionRequest{SessionId: sess.GetId()})
		if err != nil {
			t.Fatalf("the session of an open stream expired: %v", err)
		}
		return got.GetSession().GetLastSeenUnixMs() > first+3000
	}, "the open stream touches its session")
	if _, err := h.client.DeleteSession(ctx, &sessionv1.DeleteSessionRequest{SessionId: sess.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err == nil {
		t.Fatal("the stream outlived its session")
	}
}
