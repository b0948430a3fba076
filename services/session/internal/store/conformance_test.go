package store

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// testIdle is the idle timeout of every store under conformance test.
const testIdle = time.Minute

// conformanceEnv is one empty store plus the clock it reads.
type conformanceEnv struct {
	st  Store
	clk *clock
}

// newSession is a live session at the clock's time.
func (e *conformanceEnv) newSession(id string) Session {
	ms := e.clk.Now().UnixMilli()
	return Session{
		ID:                 id,
		ProtocolVersion:    "2025-11-25",
		ClientInfo:         []byte(`{"name":"c","version":"1"}`),
		ClientCapabilities: []byte(`{"roots":{}}`),
		CreatedUnixMs:      ms,
		LastSeenUnixMs:     ms,
	}
}

func (e *conformanceEnv) create(t *testing.T, s Session) {
	t.Helper()
	if err := e.st.Create(t.Context(), s); err != nil {
		t.Fatalf("create %s: %v", s.ID, err)
	}
}

func (e *conformanceEnv) get(t *testing.T, id string) Session {
	t.Helper()
	s, err := e.st.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return s
}

// wantNotFound checks that every per-session operation reports ErrNotFound for id.
func (e *conformanceEnv) wantNotFound(t *testing.T, id string) {
	t.Helper()
	ctx := t.Context()
	ops := []struct {
		name string
		run  func() error
	}{
		{"get", func() error { _, err := e.st.Get(ctx, id); return err }},
		{"touch", func() error { return e.st.Touch(ctx, id, e.clk.Now()) }},
		{"set log level", func() error { return e.st.SetLogLevel(ctx, id, "debug") }},
		{"mark initialized", func() error { return e.st.MarkInitialized(ctx, id) }},
	}
	for _, op := range ops {
		if err := op.run(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s %s: %v, want ErrNotFound", op.name, id, err)
		}
	}
}

// conformanceCases hold every Store implementation to the same behaviour. Each case
// gets an empty store whose clock starts at t0 and whose idle timeout is testIdle.
var conformanceCases = []conformanceCase{
	{"create then get returns the record byte for byte", func(t *testing.T, e *conformanceEnv) {
		s := e.newSession("a")
		// Key order and spacing a jsonb column would lose.
		s.ClientInfo = []byte(`{"version":"1.0", "name":"zed","name2":{"b":1,"a":2}}`)
		s.ClientCapabilities = []byte(`{"sampling":{},"elicitation":{"form":{}}}`)
		s.CreatedUnixMs -= 5
		// The owner is an opaque digest: any bytes, NUL included, come back as they went.
		s.Owner = "\x00\xffowner\x00"
		e.create(t, s)
		if got := e.get(t, "a"); !reflect.DeepEqual(got, s) {
			t.Fatalf("get = %+v\nwant %+v", got, s)
		}
	}},
	{"absent client objects stay absent", func(t *testing.T, e *conformanceEnv) {
		s := e.newSession("a")
		s.ClientInfo, s.ClientCapabilities = nil, nil
		e.create(t, s)
		if got := e.get(t, "a"); got.ClientInfo != nil || got.ClientCapabilities != nil {
			t.Fatalf("get = %+v, want nil client objects", got)
		}
	}},
	{"duplicate create of a live session", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		other := e.newSession("a")
		other.ProtocolVersion = "2025-06-18"
		if err := e.st.Create(t.Context(), other); !errors.Is(err, ErrExists) {
			t.Fatalf("duplicate create: %v, want ErrExists", err)
		}
		if got := e.get(t, "a"); got.ProtocolVersion != "2025-11-25" {
			t.Fatalf("duplicate create replaced the record: %+v", got)
		}
	}},
	{"create replaces an expired session not yet swept", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		e.clk.Add(testIdle + time.Second)
		fresh := e.newSession("a")
		fresh.ProtocolVersion = "2025-06-18"
		e.create(t, fresh)
		if got := e.get(t, "a"); !reflect.DeepEqual(got, fresh) {
			t.Fatalf("get = %+v, want %+v", got, fresh)
		}
	}},
	{"concurrent creates of one id: exactly one wins", func(t *testing.T, e *conformanceEnv) {
		const racers = 8
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				s := e.newSession("a")
				s.LogLevel = fmt.Sprint(i)
				errs[i] = e.st.Create(t.Context(), s)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrExists):
				t.Errorf("losing create: %v, want ErrExists", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d creates succeeded, want 1", won)
		}
	}},
	{"unknown session", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("other"))
		e.wantNotFound(t, "missing")
		if err := e.st.Delete(t.Context(), "missing"); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete: %v, want ErrNotFound", err)
		}
	}},
	{"touch keeps a session alive", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		e.clk.Add(50 * time.Second)
		touched := e.clk.Now()
		if err := e.st.Touch(t.Context(), "a", touched); err != nil {
			t.Fatal(err)
		}
		e.clk.Add(50 * time.Second) // 100 s after create, 50 s after the touch
		if got := e.get(t, "a"); got.LastSeenUnixMs != touched.UnixMilli() {
			t.Fatalf("last seen = %d, want %d", got.LastSeenUnixMs, touched.UnixMilli())
		}
	}},
	{"touch never moves last seen back", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		e.clk.Add(10 * time.Second)
		later := e.clk.Now()
		if err := e.st.Touch(t.Context(), "a", later); err != nil {
			t.Fatal(err)
		}
		if err := e.st.Touch(t.Context(), "a", later.Add(-5*time.Second)); err != nil {
			t.Fatalf("older touch of a live session: %v", err)
		}
		if got := e.get(t, "a"); got.LastSeenUnixMs != later.UnixMilli() {
			t.Fatalf("after an older touch, last seen = %d, want %d", got.LastSeenUnixMs, later.UnixMilli())
		}
		if err := e.st.Touch(t.Context(), "a", later); err != nil {
			t.Fatalf("repeated touch: %v", err)
		}
		if got := e.get(t, "a"); got.LastSeenUnixMs != later.UnixMilli() {
			t.Fatalf("last seen = %d, want %d", got.LastSeenUnixMs, later.UnixMilli())
		}
	}},
	{"idle for exactly the timeout is still alive", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		e.clk.Add(testIdle)
		e.get(t, "a")
	}},
	{"expired session is hidden before any sweep", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		e.clk.Add(testIdle + time.Millisecond)
		e.wantNotFound(t, "a")
	}},
	{"log level and initialized", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		if got := e.get(t, "a"); got.LogLevel != "" || got.Initialized {
			t.Fatalf("new session = %+v", got)
		}
		ctx := t.Context()
		for _, step := range []func() error{
			func() error { return e.st.SetLogLevel(ctx, "a", "warning") },
			func() error { return e.st.MarkInitialized(ctx, "a") },
			func() error { return e.st.MarkInitialized(ctx, "a") }, // a repeated notification is harmless
			func() error { return e.st.SetLogLevel(ctx, "a", "info") },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.get(t, "a"); got.LogLevel != "info" || !got.Initialized {
			t.Fatalf("session = %+v, want level info and initialized", got)
		}
	}},
	{"delete", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		e.create(t, e.newSession("b"))
		if err := e.st.Delete(t.Context(), "a"); err != nil {
			t.Fatal(err)
		}
		e.wantNotFound(t, "a")
		if err := e.st.Delete(t.Context(), "a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v, want ErrNotFound", err)
		}
		e.get(t, "b")
		e.create(t, e.newSession("a")) // the id is free again
	}},
	{"delete of an expired session reports not found", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		e.clk.Add(2 * testIdle)
		if err := e.st.Delete(t.Context(), "a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete: %v, want ErrNotFound", err)
		}
		if n, err := e.st.SweepExpired(t.Context(), e.clk.Now()); err != nil || n != 0 {
			t.Fatalf("sweep after delete removed %d, %v; want 0", n, err)
		}
	}},
	{"sweep removes exactly the expired sessions", func(t *testing.T, e *conformanceEnv) {
		// 7 expired sessions: more than two sweep batches of the PostgreSQL store
		// under test, and not a multiple of the batch size.
		for i := range 7 {
			e.create(t, e.newSession(fmt.Sprint("old", i)))
		}
		e.clk.Add(testIdle / 2)
		e.create(t, e.newSession("young"))
		e.clk.Add(testIdle/2 + time.Second)
		e.create(t, e.newSession("new"))
		n, err := e.st.SweepExpired(t.Context(), e.clk.Now())
		if err != nil || n != 7 {
			t.Fatalf("sweep removed %d, %v; want 7", n, err)
		}
		e.get(t, "young")
		e.get(t, "new")
		if n, err := e.st.SweepExpired(t.Context(), e.clk.Now()); err != nil || n != 0 {
			t.Fatalf("second sweep removed %d, %v; want 0", n, err)
		}
	}},
	{"sweep of a batch-size multiple", func(t *testing.T, e *conformanceEnv) {
		for i := range 2 * testSweepBatch {
			e.create(t, e.newSession(fmt.Sprint("old", i)))
		}
		n, err := e.st.SweepExpired(t.Context(), e.clk.Now().Add(testIdle+time.Second))
		if err != nil || n != 2*testSweepBatch {
			t.Fatalf("sweep removed %d, %v; want %d", n, err, 2*testSweepBatch)
		}
	}},
	{"sweep judges expiry at the time it is given", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		if n, err := e.st.SweepExpired(t.Context(), e.clk.Now().Add(testIdle)); err != nil || n != 0 {
			t.Fatalf("sweep at the idle boundary removed %d, %v", n, err)
		}
		if n, err := e.st.SweepExpired(t.Context(), e.clk.Now().Add(testIdle+time.Millisecond)); err != nil || n != 1 {
			t.Fatalf("sweep after the idle timeout removed %d, %v; want 1", n, err)
		}
		e.wantNotFound(t, "a")
	}},
	{"concurrent touches keep the latest", func(t *testing.T, e *conformanceEnv) {
		e.create(t, e.newSession("a"))
		base := e.clk.Now()
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() { errs[i] = e.st.Touch(t.Context(), "a", base.Add(time.Duration(i)*time.Second)) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, "a"); got.LastSeenUnixMs != base.Add(9*time.Second).UnixMilli() {
			t.Fatalf("last seen = %d, want %d", got.LastSeenUnixMs, base.Add(9*time.Second).UnixMilli())
		}
	}},
}

type conformanceCase struct {
	name string
	run  func(t *testing.T, e *conformanceEnv)
}

// testSweepBatch is the PostgreSQL store's sweep batch in these tests: small, so
// that sweeps take several statements.
const testSweepBatch = 3

// implementation prepares an implementation for a run of the cases (t is the
// implementation's subtest: skipping it skips only that implementation) and returns
// how to open an empty store reading clk, with idle timeout testIdle.
type implementation struct {
	name  string
	setup func(t *testing.T) func(t *testing.T, clk *clock) Store
}

// runConformance runs every case against every implementation.
func runConformance(t *testing.T, impls []implementation) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			open := impl.setup(t)
			for _, tc := range conformanceCases {
				t.Run(tc.name, func(t *testing.T) {
					clk := &clock{now: time.UnixMilli(1_700_000_000_000)}
					tc.run(t, &conformanceEnv{st: open(t, clk), clk: clk})
				})
			}
		})
	}
}

var memoryImplementation = implementation{"memory", func(*testing.T) func(*testing.T, *clock) Store {
	return func(_ *testing.T, clk *clock) Store { return NewMemory(testIdle, clk.Now) }
}}
