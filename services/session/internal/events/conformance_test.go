package events

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source, starting on a whole millisecond (the resolution
// the PostgreSQL log keeps).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.UnixMilli(1_700_000_000_000)} }

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// implementation builds empty logs of one kind. setup runs once per test binary run
// of the suite and returns the factory of per-case logs.
type implementation struct {
	name  string
	setup func(t *testing.T) func(t *testing.T, perSession int, waker *Waker, now func() time.Time) Log
}

// env is one empty log, its waker and its clock.
type env struct {
	log   Log
	waker *Waker
	clk   *clock
}

func (e *env) append(t *testing.T, session string, drafts ...Draft) {
	t.Helper()
	if err := e.log.Append(t.Context(), session, drafts...); err != nil {
		t.Fatalf("append to %s: %v", session, err)
	}
}

func (e *env) read(t *testing.T, session string, after int64, limit int) []Event {
	t.Helper()
	got, err := e.log.Read(t.Context(), session, after, limit)
	if err != nil {
		t.Fatalf("read %s after %d: %v", session, after, err)
	}
	return got
}

func (e *env) window(t *testing.T, session string) Window {
	t.Helper()
	w, err := e.log.Window(t.Context(), session)
	if err != nil {
		t.Fatalf("window of %s: %v", session, err)
	}
	return w
}

func (e *env) sweep(t *testing.T, before time.Time) int {
	t.Helper()
	n, err := e.log.Sweep(t.Context(), before)
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return n
}

// seqs returns the sequence numbers of events.
func seqs(events []Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

// wantSeqs fails unless the events are numbered exactly want.
func wantSeqs(t *testing.T, what string, got []Event, want ...int64) {
	t.Helper()
	if !slices.Equal(seqs(got), want) {
		t.Fatalf("%s: seqs %v, want %v", what, seqs(got), want)
	}
}

func draft(method string) Draft {
	return Draft{Method: method, Params: []byte(`{"m":"` + method + `"}`)}
}

func withOrigin(method, origin string) Draft {
	d := draft(method)
	d.Origin = origin
	return d
}

func woken(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

type conformanceCase struct {
	name       string
	perSession int
	run        func(t *testing.T, e *env)
}

var conformanceCases = []conformanceCase{
	{"append then read in order, with limits", 100, func(t *testing.T, e *env) {
		e.append(t, "s", draft("a"), draft("b"), Draft{Method: "c"})
		e.append(t, "s", draft("d"), draft("e"))
		all := e.read(t, "s", 0, -1)
		wantSeqs(t, "read all", all, 1, 2, 3, 4, 5)
		for i, m := range []string{"a", "b", "c", "d", "e"} {
			if all[i].Method != m {
				t.Errorf("event %d method %q, want %q", i+1, all[i].Method, m)
			}
		}
		if !bytes.Equal(all[0].Params, []byte(`{"m":"a"}`)) || len(all[2].Params) != 0 {
			t.Errorf("params %q, %q", all[0].Params, all[2].Params)
		}
		wantSeqs(t, "after 2 limit 2", e.read(t, "s", 2, 2), 3, 4)
		wantSeqs(t, "after head", e.read(t, "s", 5, 10))
		wantSeqs(t, "limit 0", e.read(t, "s", 0, 0))
		if w := e.window(t, "s"); w != (Window{First: 1, Head: 5}) {
			t.Fatalf("window %+v", w)
		}
	}},
	{"sessions are independent; an unknown session is empty", 100, func(t *testing.T, e *env) {
		e.append(t, "a", draft("x"))
		e.append(t, "b", draft("y"), draft("z"))
		wantSeqs(t, "a", e.read(t, "a", 0, -1), 1)
		wantSeqs(t, "b", e.read(t, "b", 0, -1), 1, 2)
		wantSeqs(t, "unknown", e.read(t, "nobody", 0, 10))
		if w := e.window(t, "nobody"); w != (Window{First: 1, Head: 0}) {
			t.Fatalf("window of unknown session %+v", w)
		}
		e.append(t, "a")
		wantSeqs(t, "a after an empty append", e.read(t, "a", 0, -1), 1)
	}},
	{"recorded origins are skipped without a sequence gap", 100, func(t *testing.T, e *env) {
		e.append(t, "s", withOrigin("a", "p"), draft("b"), withOrigin("c", "p"))
		e.append(t, "other", withOrigin("a", "p"))
		w := e.waker.Watch("s")
		defer w.Close()
		c := w.C()
		e.append(t, "s", withOrigin("d", "p"))
		if woken(c) {
			t.Error("an append that recorded nothing woke the readers")
		}
		e.append(t, "s", withOrigin("e", "q"), draft("f"))
		got := e.read(t, "s", 0, -1)
		wantSeqs(t, "s", got, 1, 2, 3, 4)
		if methods := []string{got[0].Method, got[1].Method, got[2].Method, got[3].Method}; !slices.Equal(methods, []string{"a", "b", "e", "f"}) {
			t.Fatalf("methods %v", methods)
		}
		if !woken(c) {
			t.Error("an append that recorded events did not wake the readers")
		}
		wantSeqs(t, "other session records the same origin", e.read(t, "other", 0, -1), 1)
	}},
	{"the cap keeps the newest events and the counter", 3, func(t *testing.T, e *env) {
		for i := range 5 {
			e.append(t, "s", draft(fmt.Sprint(i)))
		}
		w := e.window(t, "s")
		if w != (Window{First: 3, Head: 5}) {
			t.Fatalf("window %+v, want {3 5}", w)
		}
		wantSeqs(t, "read", e.read(t, "s", 0, -1), 3, 4, 5)
		for after, want := range map[int64]bool{1: false, 2: true, 4: true, 5: true, 6: false} {
			if got := w.Resumable(after); got != want {
				t.Errorf("Resumable(%d) = %v, want %v", after, got, want)
			}
		}
		e.append(t, "s", draft("a"), draft("b"), draft("c"), draft("d"))
		if w := e.window(t, "s"); w != (Window{First: 7, Head: 9}) {
			t.Fatalf("window after a batch larger than the cap %+v", w)
		}
	}},
	{"an origin trimmed by the cap may be recorded again", 2, func(t *testing.T, e *env) {
		e.append(t, "s", withOrigin("a", "o"))
		e.append(t, "s", draft("b"), draft("c"))
		e.append(t, "s", withOrigin("d", "o"))
		wantSeqs(t, "read", e.read(t, "s", 0, -1), 3, 4)
	}},
	{"sweep removes old events and keeps the window contiguous", 100, func(t *testing.T, e *env) {
		t0 := e.clk.Now()
		e.append(t, "s", draft("a"), draft("b"))
		e.append(t, "t", draft("x"))
		e.clk.Add(time.Minute)
		e.append(t, "s", draft("c"), draft("d"))
		if n := e.sweep(t, t0.Add(30*time.Second)); n != 3 {
			t.Fatalf("first sweep removed %d, want 3", n)
		}
		if w := e.window(t, "s"); w != (Window{First: 3, Head: 4}) {
			t.Fatalf("window after a partial sweep %+v", w)
		}
		wantSeqs(t, "read after a partial sweep", e.read(t, "s", 0, -1), 3, 4)
		if w := e.window(t, "t"); w != (Window{First: 1, Head: 0}) {
			t.Fatalf("window of a fully swept session %+v", w)
		}
		if n := e.sweep(t, t0.Add(2*time.Minute)); n != 2 {
			t.Fatalf("second sweep removed %d, want 2", n)
		}
		if w := e.window(t, "s"); w != (Window{First: 1, Head: 0}) {
			t.Fatalf("window after a full sweep %+v", w)
		}
		if n := e.sweep(t, t0.Add(time.Hour)); n != 0 {
			t.Fatalf("sweep of an empty log removed %d", n)
		}
		e.append(t, "s", draft("e"))
		wantSeqs(t, "read after a full sweep", e.read(t, "s", 0, -1), 1)
	}},
	{"sweep removes a prefix even when the clock went back", 100, func(t *testing.T, e *env) {
		t0 := e.clk.Now()
		e.clk.Add(time.Minute)
		e.append(t, "s", draft("a"))
		e.clk.Add(-time.Minute) // another replica's clock is behind
		e.append(t, "s", draft("b"))
		if n := e.sweep(t, t0.Add(30*time.Second)); n != 0 {
			t.Fatalf("sweep removed %d, want 0 (the first event is new)", n)
		}
		wantSeqs(t, "read", e.read(t, "s", 0, -1), 1, 2)
	}},
	{"forget drops events and counter and wakes readers", 100, func(t *testing.T, e *env) {
		e.append(t, "s", draft("a"), draft("b"))
		e.append(t, "t", draft("x"))
		w := e.waker.Watch("s")
		defer w.Close()
		c := w.C()
		if err := e.log.Forget(t.Context(), "s"); err != nil {
			t.Fatal(err)
		}
		if !woken(c) {
			t.Error("forget did not wake the session's readers")
		}
		if got := e.window(t, "s"); got != (Window{First: 1, Head: 0}) {
			t.Fatalf("window after forget %+v", got)
		}
		wantSeqs(t, "read after forget", e.read(t, "s", 0, -1))
		wantSeqs(t, "other session kept", e.read(t, "t", 0, -1), 1)
		e.append(t, "s", draft("c"))
		wantSeqs(t, "a forgotten session starts again", e.read(t, "s", 0, -1), 1)
		if err := e.log.Forget(t.Context(), "never"); err != nil {
			t.Fatalf("forget an unknown session: %v", err)
		}
	}},
	{"append wakes only the session's readers", 100, func(t *testing.T, e *env) {
		ws, wt := e.waker.Watch("s"), e.waker.Watch("t")
		defer ws.Close()
		defer wt.Close()
		cs, ct := ws.C(), wt.C()
		e.append(t, "s", draft("a"))
		if !woken(cs) {
			t.Error("reader of s not woken")
		}
		if woken(ct) {
			t.Error("reader of t woken by an append to s")
		}
	}},
	{"concurrent appends to one session take distinct gap-free numbers", 10000, func(t *testing.T, e *env) {
		const writers, rounds = 6, 8
		var wg sync.WaitGroup
		errs := make(chan error, writers*rounds)
		for w := range writers {
			wg.Go(func() {
				for r := range rounds {
					// Every writer offers the same origins too: each is recorded once.
					errs <- e.log.Append(t.Context(), "s", draft(fmt.Sprint(w, r)), withOrigin("o", fmt.Sprint("origin", r)))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := e.read(t, "s", 0, -1)
		const want = writers*rounds + rounds
		if len(got) != want {
			t.Fatalf("%d events, want %d", len(got), want)
		}
		for i, ev := range got {
			if ev.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d: %v", i, ev.Seq, seqs(got))
			}
		}
		if w := e.window(t, "s"); w != (Window{First: 1, Head: want}) {
			t.Fatalf("window %+v", w)
		}
	}},
}

// runConformance runs every case against every implementation, each case on an
// empty log.
func runConformance(t *testing.T, impls []implementation) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			newLog := impl.setup(t)
			for _, c := range conformanceCases {
				t.Run(c.name, func(t *testing.T) {
					clk := newClock()
					waker := NewWaker()
					c.run(t, &env{log: newLog(t, c.perSession, waker, clk.Now), waker: waker, clk: clk})
				})
			}
		})
	}
}

var memoryImplementation = implementation{"memory", func(*testing.T) func(*testing.T, int, *Waker, func() time.Time) Log {
	return func(_ *testing.T, perSession int, waker *Waker, now func() time.Time) Log {
		return NewMemory(perSession, waker, now)
	}
}}
