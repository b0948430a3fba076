package pending

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// answerDeadline bounds the wait for an answer that must arrive.
const answerDeadline = 10 * time.Second

// implementation builds empty stores of one kind: setup runs once per suite and
// returns the per-case factory.
type implementation struct {
	name  string
	setup func(t *testing.T) func(t *testing.T) Store
}

func expect(t *testing.T, st Store, session, id string) Waiter {
	t.Helper()
	w, err := st.Expect(t.Context(), session, []byte(id))
	if err != nil {
		t.Fatalf("expect %s %s: %v", session, id, err)
	}
	t.Cleanup(w.Close)
	return w
}

func deliver(t *testing.T, st Store, session, id string, a Answer) bool {
	t.Helper()
	ok, err := st.Deliver(t.Context(), session, []byte(id), a)
	if err != nil {
		t.Fatalf("deliver %s %s: %v", session, id, err)
	}
	return ok
}

// receive waits (up to answerDeadline) for the waiter's answer.
func receive(t *testing.T, w Waiter) Answer {
	t.Helper()
	select {
	case a := <-w.C():
		return a
	case <-time.After(answerDeadline):
		t.Fatal("no answer arrived")
		return Answer{}
	}
}

func result(s string) Answer { return Answer{Result: []byte(s)} }

var conformanceCases = []struct {
	name string
	run  func(t *testing.T, st Store)
}{
	{"deliver hands the answer to the waiter", func(t *testing.T, st Store) {
		w := expect(t, st, "s", `"r1"`)
		if !deliver(t, st, "s", `"r1"`, result(`{"ok":true}`)) {
			t.Fatal("deliver to a waiter = false")
		}
		if got := receive(t, w); !bytes.Equal(got.Result, []byte(`{"ok":true}`)) || got.Error != nil {
			t.Fatalf("answer %+v", got)
		}
	}},
	{"an error answer arrives whole", func(t *testing.T, st Store) {
		w := expect(t, st, "s", `7`)
		want := Answer{Error: &Error{Code: -32601, Message: "no such method", Data: []byte(`{"m":"x"}`)}}
		if !deliver(t, st, "s", `7`, want) {
			t.Fatal("deliver = false")
		}
		if got := receive(t, w); !reflect.DeepEqual(got, want) {
			t.Fatalf("answer %+v (error %+v), want %+v", got, got.Error, want.Error)
		}
	}},
	{"unknown or invalid ids are not delivered", func(t *testing.T, st Store) {
		expect(t, st, "s", `"r1"`)
		for _, c := range []struct{ session, id string }{
			{"s", `"r2"`}, {"other", `"r1"`}, {"s", `1`}, {"s", `null`}, {"s", `{}`}, {"s", `"unterminated`},
			{"s\x00", `"r1"`}, {"s", `"a\u0000b"`},
		} {
			if deliver(t, st, c.session, c.id, result(`{}`)) {
				t.Errorf("deliver %q %s = true", c.session, c.id)
			}
		}
		for _, id := range []string{`null`, `{}`, `[1]`, `true`} {
			if _, err := st.Expect(t.Context(), "s", []byte(id)); err == nil {
				t.Errorf("expect with id %s succeeded", id)
			}
		}
	}},
	{"a second answer is not delivered", func(t *testing.T, st Store) {
		w := expect(t, st, "s", `"r1"`)
		if !deliver(t, st, "s", `"r1"`, result(`1`)) {
			t.Fatal("first deliver = false")
		}
		if deliver(t, st, "s", `"r1"`, result(`2`)) {
			t.Fatal("second deliver = true")
		}
		if got := receive(t, w); string(got.Result) != "1" {
			t.Fatalf("answer %s, want the first", got.Result)
		}
	}},
	{"a closed waiter gets nothing", func(t *testing.T, st Store) {
		w := expect(t, st, "s", `"r1"`)
		w.Close()
		w.Close() // twice is fine
		if deliver(t, st, "s", `"r1"`, result(`1`)) {
			t.Fatal("deliver to a closed waiter = true")
		}
		select {
		case a := <-w.C():
			t.Fatalf("a closed waiter received %+v", a)
		default:
		}
		// The id is free again.
		w2 := expect(t, st, "s", `"r1"`)
		if !deliver(t, st, "s", `"r1"`, result(`2`)) {
			t.Fatal("deliver to the new waiter = false")
		}
		if got := receive(t, w2); string(got.Result) != "2" {
			t.Fatalf("answer %s", got.Result)
		}
	}},
	{"equivalent JSON ids match, strings never match numbers", func(t *testing.T, st Store) {
		wa := expect(t, st, "s", `"a"`)
		wn := expect(t, st, "s", `1`)
		if deliver(t, st, "s", `"1"`, result(`0`)) {
			t.Error(`"1" delivered to the waiter of 1`)
		}
		if !deliver(t, st, "s", `"\u0061"`, result(`1`)) {
			t.Error(`"\u0061" not delivered to the waiter of "a"`)
		}
		if !deliver(t, st, "s", ` 1 `, result(`2`)) {
			t.Error(`" 1 " not delivered to the waiter of 1`)
		}
		if got := receive(t, wa); string(got.Result) != "1" {
			t.Errorf("answer of a: %s", got.Result)
		}
		if got := receive(t, wn); string(got.Result) != "2" {
			t.Errorf("answer of 1: %s", got.Result)
		}
	}},
	{"a duplicate expect is refused; sessions are separate", func(t *testing.T, st Store) {
		expect(t, st, "s", `"r1"`)
		if _, err := st.Expect(t.Context(), "s", []byte(`"\u0072\u0031"`)); !errors.Is(err, ErrExists) {
			t.Fatalf("duplicate expect: %v, want ErrExists", err)
		}
		wo := expect(t, st, "other", `"r1"`)
		if !deliver(t, st, "other", `"r1"`, result(`3`)) {
			t.Fatal("deliver in the other session = false")
		}
		if got := receive(t, wo); string(got.Result) != "3" {
			t.Fatalf("answer %s", got.Result)
		}
	}},
	{"concurrent deliveries: exactly one wins and its answer arrives", func(t *testing.T, st Store) {
		w := expect(t, st, "s", `"r1"`)
		const racers = 8
		won := make([]bool, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				won[i], errs[i] = st.Deliver(t.Context(), "s", []byte(`"r1"`), result(fmt.Sprint(i)))
			})
		}
		wg.Wait()
		winner := -1
		for i := range racers {
			if errs[i] != nil {
				t.Fatalf("racer %d: %v", i, errs[i])
			}
			if won[i] {
				if winner >= 0 {
					t.Fatalf("racers %d and %d both delivered", winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatal("no racer delivered")
		}
		if got := receive(t, w); string(got.Result) != fmt.Sprint(winner) {
			t.Fatalf("answer %s, want the winner's %d", got.Result, winner)
		}
	}},
}

func runConformance(t *testing.T, impls []implementation) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			newStore := impl.setup(t)
			for _, c := range conformanceCases {
				t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
			}
		})
	}
}

var memoryImplementation = implementation{"memory", func(*testing.T) func(*testing.T) Store {
	return func(*testing.T) Store { return NewMemory() }
}}

func TestConformance(t *testing.T) {
	runConformance(t, []implementation{memoryImplementation, postgresImplementation})
}
