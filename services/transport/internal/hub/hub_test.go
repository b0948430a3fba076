package hub

import "testing"

func TestMemoryDeliversToOneStream(t *testing.T) {
	h := NewMemory()
	a, unsubA := h.Subscribe("s1")
	b, unsubB := h.Subscribe("s1")
	defer unsubB()
	if !h.Publish("s1", []byte("m1")) {
		t.Fatal("Publish with subscribers reported false")
	}
	if got := string(<-a); got != "m1" {
		t.Fatalf("first subscriber got %q", got)
	}
	select {
	case m := <-b:
		t.Fatalf("message broadcast to second subscriber: %q", m)
	default:
	}
	unsubA()
	unsubA() // idempotent
	if _, ok := <-a; ok {
		t.Fatal("channel open after unsubscribe")
	}
	if !h.Publish("s1", []byte("m2")) || string(<-b) != "m2" {
		t.Fatal("second subscriber did not get the message after the first left")
	}
	if h.Publish("other", []byte("x")) {
		t.Fatal("Publish to a session without streams reported true")
	}
}

func TestMemoryFullBufferAndCloseSession(t *testing.T) {
	h := NewMemory()
	ch, unsub := h.Subscribe("s")
	for i := 0; i < Buffer; i++ {
		if !h.Publish("s", []byte("x")) {
			t.Fatalf("publish %d failed before the buffer was full", i)
		}
	}
	if h.Publish("s", []byte("x")) {
		t.Fatal("publish to a full buffer reported true")
	}
	h.CloseSession("s")
	n := 0
	for range ch {
		n++
	}
	if n != Buffer {
		t.Fatalf("drained %d buffered messages, want %d", n, Buffer)
	}
	unsub() // after CloseSession: must not panic
}
