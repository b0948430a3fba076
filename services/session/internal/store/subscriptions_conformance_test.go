package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// The subscription cases join conformanceCases in init, so both implementations run
// them.
func init() {
	conformanceCases = append(conformanceCases, subscriptionCases...)
}

var subscriptionCases = []conformanceCase{
	{"count live sessions", func(t *testing.T, e *conformanceEnv) {
		ctx := t.Context()
		count := func() int64 {
			t.Helper()
			n, err := e.st.CountLive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 0 {
			t.Fatalf("empty store counts %d", n)
		}
		e.create(t, e.newSession("old"))
		e.clk.Add(testIdle / 2)
		e.create(t, e.newSession("new"))
		e.create(t, e.newSession("gone"))
		if err := e.st.Delete(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Fatalf("count = %d, want 2", n)
		}
		e.clk.Add(testIdle/2 + time.Millisecond) // "old" expires, not swept
		if n := count(); n != 1 {
			t.Fatalf("count after expiry = %d, want 1", n)
		}
	}},
	{"subscribe, list subscribers, unsubscribe", func(t *testing.T, e *conformanceEnv) {
		ctx := t.Context()
		e.create(t, e.newSession("a"))
		e.create(t, e.newSession("b"))
		for _, sub := range [][2]string{{"a", "test://x"}, {"b", "test://x"}, {"a", "test://y"}, {"a", "test://x"}} {
			if err := e.st.Subscribe(ctx, sub[0], sub[1]); err != nil {
				t.Fatalf("subscribe %s to %s: %v", sub[0], sub[1], err)
			}
		}
		wantSubscribers(t, e, "test://x", "a", "b")
		wantSubscribers(t, e, "test://y", "a")
		wantSubscribers(t, e, "test://z")
		if err := e.st.Unsubscribe(ctx, "a", "test://x"); err != nil {
			t.Fatalf("unsubscribe: %v", err)
		}
		if err := e.st.Unsubscribe(ctx, "a", "test://never"); err != nil {
			t.Fatalf("unsubscribe from an absent subscription: %v", err)
		}
		wantSubscribers(t, e, "test://x", "b")
	}},
	{"subscriptions end with their session", func(t *testing.T, e *conformanceEnv) {
		ctx := t.Context()
		e.create(t, e.newSession("gone"))
		e.create(t, e.newSession("idle"))
		for _, id := range []string{"gone", "idle"} {
			if err := e.st.Subscribe(ctx, id, "test://x"); err != nil {
				t.Fatalf("subscribe %s: %v", id, err)
			}
		}
		if err := e.st.Delete(ctx, "gone"); err != nil {
			t.Fatalf("delete: %v", err)
		}
		e.clk.Add(testIdle + time.Millisecond)
		wantSubscribers(t, e, "test://x")
		for _, id := range []string{"gone", "idle", "never"} {
			if err := e.st.Subscribe(ctx, id, "test://x"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("subscribe %s: %v, want ErrNotFound", id, err)
			}
			if err := e.st.Unsubscribe(ctx, id, "test://x"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unsubscribe %s: %v, want ErrNotFound", id, err)
			}
		}
	}},
	{"subscriptions are bounded per session", func(t *testing.T, e *conformanceEnv) {
		ctx := t.Context()
		e.create(t, e.newSession("a"))
		for i := range MaxSubscriptions {
			if err := e.st.Subscribe(ctx, "a", fmt.Sprintf("test://r/%d", i)); err != nil {
				t.Fatalf("subscribe %d: %v", i, err)
			}
		}
		if err := e.st.Subscribe(ctx, "a", "test://one-too-many"); !errors.Is(err, ErrTooManySubscriptions) {
			t.Fatalf("subscribe past the limit: %v, want ErrTooManySubscriptions", err)
		}
		if err := e.st.Subscribe(ctx, "a", "test://r/0"); err != nil {
			t.Fatalf("repeating a subscription at the limit: %v", err)
		}
	}},
}

func wantSubscribers(t *testing.T, e *conformanceEnv, uri string, want ...string) {
	t.Helper()
	got, err := e.st.Subscribers(t.Context(), uri)
	if err != nil {
		t.Fatalf("subscribers of %s: %v", uri, err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
		t.Fatalf("subscribers of %s = %v, want %v", uri, got, want)
	}
}
