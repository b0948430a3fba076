package events

import (
	"slices"
	"sync"
	"testing"
)

func TestWakerWakeBetweenCAndWaitIsNotLost(t *testing.T) {
	w := NewWaker()
	watch := w.Watch("s")
	defer watch.Close()
	c := watch.C()
	w.Wake("s") // before the reader waits
	if !woken(c) {
		t.Fatal("the channel taken before Wake is not closed")
	}
	if next := watch.C(); woken(next) {
		t.Fatal("the next channel is closed already")
	}
}

func TestWakerWakesEveryReaderOfTheSessionOnly(t *testing.T) {
	w := NewWaker()
	a1, a2, b := w.Watch("a"), w.Watch("a"), w.Watch("b")
	defer a1.Close()
	defer a2.Close()
	defer b.Close()
	ca1, ca2, cb := a1.C(), a2.C(), b.C()
	w.Wake("a")
	w.Wake("nobody") // no readers: nothing to do
	if !woken(ca1) || !woken(ca2) {
		t.Error("a reader of a was not woken")
	}
	if woken(cb) {
		t.Error("the reader of b was woken")
	}
}

func TestWakerWakeAll(t *testing.T) {
	w := NewWaker()
	a, b := w.Watch("a"), w.Watch("b")
	defer a.Close()
	defer b.Close()
	ca, cb := a.C(), b.C()
	w.WakeAll()
	if !woken(ca) || !woken(cb) {
		t.Fatal("WakeAll left a reader asleep")
	}
	if woken(a.C()) || woken(b.C()) {
		t.Fatal("WakeAll left closed channels behind")
	}
	NewWaker().WakeAll() // no readers
}

func TestWakerWatchingAndClose(t *testing.T) {
	w := NewWaker()
	a1, a2, b := w.Watch("a"), w.Watch("a"), w.Watch("b")
	got := w.Watching()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Watching() = %v, want [a b]", got)
	}
	a1.Close()
	a1.Close() // twice is fine and does not drop a2's registration
	b.Close()
	if got := w.Watching(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Watching() after closes = %v, want [a]", got)
	}
	c := a2.C()
	w.Wake("a")
	if !woken(c) {
		t.Fatal("the remaining reader of a was not woken")
	}
	a2.Close()
	if got := w.Watching(); len(got) != 0 {
		t.Fatalf("Watching() with no readers = %v", got)
	}
}

// Readers that took C before the wakes are all woken, however the goroutines
// interleave.
func TestWakerConcurrentReadersAndWakers(t *testing.T) {
	w := NewWaker()
	const readers, wakes = 4, 50
	var wg sync.WaitGroup
	ready := make(chan struct{}, readers)
	for range readers {
		watch := w.Watch("s")
		wg.Go(func() {
			defer watch.Close()
			c := watch.C()
			ready <- struct{}{}
			<-c // the wakes below all follow this C: the first closes it
		})
	}
	for range readers {
		<-ready
	}
	for range wakes {
		w.Wake("s")
	}
	wg.Wait()
	if got := w.Watching(); len(got) != 0 {
		t.Fatalf("Watching() after every reader left = %v", got)
	}
}
