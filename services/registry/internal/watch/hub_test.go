package watch

import "testing"

func TestPublishCoalescesAndNeverBlocks(t *testing.T) {
	h := NewHub(0)
	sub := h.Subscribe()
	defer sub.Close()
	// Nobody reads while these publish: a blocking hub would deadlock here.
	for i := 1; i <= 100; i++ {
		h.Publish(i)
	}
	<-sub.Wake()
	if got := sub.Latest(); got != 100 {
		t.Fatalf("Latest = %d, want 100", got)
	}
	select {
	case <-sub.Wake():
		t.Fatal("burst of publishes woke the watcher more than once")
	default:
	}
}

func TestEveryWatcherIsWoken(t *testing.T) {
	h := NewHub("a")
	subs := []*Subscription[string]{h.Subscribe(), h.Subscribe(), h.Subscribe()}
	h.Publish("b")
	for i, s := range subs {
		select {
		case <-s.Wake():
		default:
			t.Fatalf("watcher %d not woken", i)
		}
		if s.Latest() != "b" {
			t.Fatalf("watcher %d sees %q", i, s.Latest())
		}
		s.Close()
	}
	if n := len(h.watchers); n != 0 {
		t.Fatalf("%d watchers left after Close", n)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	h := NewHub(1)
	before := h.Subscribe()
	h.Close()
	after := h.Subscribe()
	for name, s := range map[string]*Subscription[int]{"before": before, "after": after} {
		select {
		case <-s.Done():
		default:
			t.Fatalf("subscription made %s Close is not done", name)
		}
	}
	h.Close() // idempotent
	h.Publish(2)
	if h.Current() != 2 {
		t.Fatal("Publish after Close lost the value")
	}
}
