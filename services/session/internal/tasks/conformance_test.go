package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/services/session/internal/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// implementation builds empty stores of one kind on a clock.
type implementation struct {
	name  string
	setup func(t *testing.T) func(t *testing.T, c *clock) Store
}

var memoryImplementation = implementation{"memory", func(*testing.T) func(*testing.T, *clock) Store {
	return func(_ *testing.T, c *clock) Store { return NewMemory(c.Now) }
}}

func migratedPool(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		return pgdb.Migrate(ctx, pool, "session", migrations.FS, nil)
	})
}

var postgresImplementation = implementation{"postgres", func(t *testing.T) func(*testing.T, *clock) Store {
	pool := migratedPool(t)
	return func(t *testing.T, c *clock) Store {
		if _, err := pool.Exec(t.Context(), `TRUNCATE session_tasks`); err != nil {
			t.Fatal(err)
		}
		p := NewPostgres(pool, c.Now)
		p.batch = 2 // several sweep batches in the sweep case
		return p
	}
}}

const start = int64(1_700_000_000_000)

func newTask(id, session string, createdOffsetMs, ttlMs int64) Task {
	return Task{ID: id, SessionID: session, Status: Working, StatusMessage: "running",
		CreatedUnixMs: start + createdOffsetMs, UpdatedUnixMs: start + createdOffsetMs, TTLMs: ttlMs, PollIntervalMs: 500}
}

func create(t *testing.T, st Store, tasks ...Task) {
	t.Helper()
	for _, task := range tasks {
		if err := st.Create(t.Context(), task); err != nil {
			t.Fatalf("create %s: %v", task.ID, err)
		}
	}
}

func ids(tasks []Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.ID
	}
	return out
}

var conformanceCases = []struct {
	name string
	run  func(t *testing.T, st Store, c *clock)
}{
	{"create then get returns the record", func(t *testing.T, st Store, _ *clock) {
		want := newTask("a", "s", 0, 60_000)
		create(t, st, want)
		got, err := st.Get(t.Context(), "a")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.SessionID != "s" || got.Status != Working || got.StatusMessage != "running" ||
			got.CreatedUnixMs != want.CreatedUnixMs || got.TTLMs != 60_000 || got.PollIntervalMs != 500 || got.Result != nil || got.Error != nil {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		if err := st.Create(t.Context(), want); !errors.Is(err, ErrExists) {
			t.Fatalf("second create: %v, want ErrExists", err)
		}
	}},
	{"unknown and expired records are not found", func(t *testing.T, st Store, c *clock) {
		create(t, st, newTask("a", "s", 0, 1000))
		if _, err := st.Get(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		c.advance(time.Second)
		if _, err := st.Get(t.Context(), "a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired: %v", err)
		}
		if _, _, err := st.Finish(t.Context(), "a", Outcome{Status: Completed}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("finish expired: %v", err)
		}
		if _, err := st.Cancel(t.Context(), "a", "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cancel expired: %v", err)
		}
	}},
	{"finish records the outcome once", func(t *testing.T, st Store, c *clock) {
		create(t, st, newTask("ok", "s", 0, 60_000), newTask("bad", "s", 0, 60_000))
		c.advance(10 * time.Millisecond)
		got, done, err := st.Finish(t.Context(), "ok", Outcome{Status: Completed, Result: []byte(`{"content":[]}`)})
		if err != nil || !done || got.Status != Completed || string(got.Result) != `{"content":[]}` || got.UpdatedUnixMs != start+10 {
			t.Fatalf("finish = %+v, %v, %v", got, done, err)
		}
		got, done, err = st.Finish(t.Context(), "ok", Outcome{Status: Failed})
		if err != nil || done || got.Status != Completed {
			t.Fatalf("second finish = %+v, %v, %v; want the first outcome kept", got, done, err)
		}
		failure := &Error{Code: -32603, Message: "tool x failed", Data: []byte(`{"k":1}`)}
		if _, done, err := st.Finish(t.Context(), "bad", Outcome{Status: Failed, StatusMessage: "tool x failed", Error: failure}); err != nil || !done {
			t.Fatalf("finish failed = %v, %v", done, err)
		}
		got, err = st.Get(t.Context(), "bad")
		if err != nil || got.Status != Failed || got.StatusMessage != "tool x failed" || got.Error == nil ||
			got.Error.Code != -32603 || got.Error.Message != "tool x failed" || string(got.Error.Data) != `{"k":1}` {
			t.Fatalf("failed record = %+v (%+v), %v", got, got.Error, err)
		}
	}},
	{"cancel wins over a later finish, and cannot cancel twice", func(t *testing.T, st Store, _ *clock) {
		create(t, st, newTask("a", "s", 0, 60_000))
		got, err := st.Cancel(t.Context(), "a", "cancelled by request")
		if err != nil || got.Status != Cancelled || got.StatusMessage != "cancelled by request" {
			t.Fatalf("cancel = %+v, %v", got, err)
		}
		if got, done, err := st.Finish(t.Context(), "a", Outcome{Status: Completed, Result: []byte(`{}`)}); err != nil || done || got.Status != Cancelled {
			t.Fatalf("finish after cancel = %+v, %v, %v", got, done, err)
		}
		if got, err := st.Cancel(t.Context(), "a", "again"); !errors.Is(err, ErrTerminal) || got.Status != Cancelled {
			t.Fatalf("second cancel = %+v, %v; want ErrTerminal", got, err)
		}
		if _, err := st.Cancel(t.Context(), "nope", "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cancel unknown: %v", err)
		}
	}},
	{"cancelled among running ids", func(t *testing.T, st Store, _ *clock) {
		create(t, st, newTask("run", "s", 0, 60_000), newTask("stop", "s", 0, 60_000))
		if _, err := st.Cancel(t.Context(), "stop", "x"); err != nil {
			t.Fatal(err)
		}
		got, err := st.CancelledAmong(t.Context(), []string{"run", "stop", "gone"})
		slices.Sort(got)
		if err != nil || !slices.Equal(got, []string{"gone", "stop"}) {
			t.Fatalf("cancelled among = %v, %v", got, err)
		}
		if got, err := st.CancelledAmong(t.Context(), nil); err != nil || len(got) != 0 {
			t.Fatalf("cancelled among nothing = %v, %v", got, err)
		}
	}},
	{"list pages one session's live tasks in creation order", func(t *testing.T, st Store, c *clock) {
		create(t, st,
			newTask("c", "s", 2, 60_000), newTask("a", "s", 1, 60_000), newTask("b", "s", 1, 60_000),
			newTask("other", "t", 1, 60_000), newTask("short", "s", 0, 5), newTask("d", "s", 3, 60_000))
		c.advance(10 * time.Millisecond) // "short" expires
		var all []string
		after := Position{}
		for page := 0; ; page++ {
			got, more, err := st.List(t.Context(), "s", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) > 2 || page > 3 {
				t.Fatalf("page %d: %v (more %v)", page, ids(got), more)
			}
			all = append(all, ids(got)...)
			if !more {
				break
			}
			last := got[len(got)-1]
			after = Position{last.CreatedUnixMs, last.ID}
		}
		if want := []string{"a", "b", "c", "d"}; !slices.Equal(all, want) {
			t.Fatalf("listed %v, want %v", all, want)
		}
		if got, more, err := st.List(t.Context(), "nobody", Position{}, 10); err != nil || more || len(got) != 0 {
			t.Fatalf("list of another session = %v, %v, %v", ids(got), more, err)
		}
	}},
	{"a task waits for input, takes answers one by one, then resumes", func(t *testing.T, st Store, c *clock) {
		create(t, st, newTask("a", "", 0, 60_000))
		ctx := t.Context()
		got, err := st.AwaitInput(ctx, "a", []byte(`{"k1":{"method":"elicitation/create"},"k2":{"method":"roots/list"}}`), "waiting")
		if err != nil || got.Status != InputRequired || got.StatusMessage != "waiting" {
			t.Fatalf("AwaitInput = %+v, %v", got, err)
		}
		// Unknown keys are ignored; the answered key leaves the pending requests.
		c.advance(time.Millisecond)
		got, err = st.AddInput(ctx, "a", map[string][]byte{"k1": []byte(`{"action":"accept"}`), "stray": []byte(`{}`)})
		if err != nil || !jsonEqual(got.InputRequests, `{"k2":{"method":"roots/list"}}`) ||
			!jsonEqual(got.InputResponses, `{"k1":{"action":"accept"}}`) || got.UpdatedUnixMs != start+1 {
			t.Fatalf("AddInput = %s / %s (updated %d), %v", got.InputRequests, got.InputResponses, got.UpdatedUnixMs, err)
		}
		// An answer to a key answered already changes nothing.
		if again, err := st.AddInput(ctx, "a", map[string][]byte{"k1": []byte(`{"action":"decline"}`)}); err != nil ||
			!jsonEqual(again.InputResponses, `{"k1":{"action":"accept"}}`) {
			t.Fatalf("second answer = %s, %v", again.InputResponses, err)
		}
		got, err = st.AddInput(ctx, "a", map[string][]byte{"k2": []byte(`{"roots":[]}`)})
		if err != nil || !jsonEqual(got.InputRequests, `{}`) || !jsonEqual(got.InputResponses, `{"k1":{"action":"accept"},"k2":{"roots":[]}}`) {
			t.Fatalf("AddInput = %s / %s, %v", got.InputRequests, got.InputResponses, err)
		}
		got, err = st.Resume(ctx, "a", "running again")
		if err != nil || got.Status != Working || got.InputRequests != nil || got.InputResponses != nil {
			t.Fatalf("Resume = %+v, %v", got, err)
		}
		// A working task takes no answers.
		if got, err := st.AddInput(ctx, "a", map[string][]byte{"k1": []byte(`{}`)}); err != nil || got.InputResponses != nil {
			t.Fatalf("AddInput while working = %+v, %v", got, err)
		}
		// A cancelled task neither waits nor resumes.
		if _, err := st.Cancel(ctx, "a", "stop"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AwaitInput(ctx, "a", []byte(`{}`), "x"); !errors.Is(err, ErrTerminal) {
			t.Fatalf("AwaitInput on a cancelled task: %v", err)
		}
		if got, err := st.Resume(ctx, "a", "x"); !errors.Is(err, ErrTerminal) || got.Status != Cancelled {
			t.Fatalf("Resume on a cancelled task: %+v, %v", got, err)
		}
		if _, err := st.AddInput(ctx, "nope", nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("AddInput on an unknown task: %v", err)
		}
	}},
	{"count active counts a session's unfinished live tasks", func(t *testing.T, st Store, c *clock) {
		create(t, st, newTask("w", "s", 0, 60_000), newTask("done", "s", 0, 60_000), newTask("gone", "s", 0, 1000),
			newTask("other", "s2", 0, 60_000))
		if _, _, err := st.Finish(t.Context(), "done", Outcome{Status: Completed, Result: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		c.advance(2 * time.Second)
		if n, err := st.CountActive(t.Context(), "s"); err != nil || n != 1 {
			t.Fatalf("CountActive = %d, %v; want 1", n, err)
		}
	}},
	{"count active owned counts an owner's unfinished live tasks in every session", func(t *testing.T, st Store, c *clock) {
		owned := func(id, session, owner string, ttl int64) Task {
			task := newTask(id, session, 0, ttl)
			task.Owner = owner
			return task
		}
		create(t, st, owned("a1", "s", "alice", 60_000), owned("a2", "", "alice", 60_000), owned("a3", "s2", "alice", 60_000),
			owned("gone", "s", "alice", 1000), owned("b1", "s", "bob", 60_000))
		if _, err := st.Cancel(t.Context(), "a3", "stop"); err != nil {
			t.Fatal(err)
		}
		c.advance(2 * time.Second)
		if n, err := st.CountActiveOwned(t.Context(), "alice"); err != nil || n != 2 {
			t.Fatalf("CountActiveOwned(alice) = %d, %v; want 2", n, err)
		}
		if got, err := st.Get(t.Context(), "a2"); err != nil || got.Owner != "alice" {
			t.Fatalf("Get keeps the owner: %+v, %v", got, err)
		}
	}},
	{"sweep deletes expired records in batches", func(t *testing.T, st Store, c *clock) {
		for i := range 5 {
			create(t, st, newTask(fmt.Sprintf("old%d", i), "s", 0, 1000))
		}
		create(t, st, newTask("fresh", "s", 0, 60_000))
		c.advance(2 * time.Second)
		n, err := st.Sweep(t.Context())
		if err != nil || n != 5 {
			t.Fatalf("sweep = %d, %v; want 5", n, err)
		}
		if _, err := st.Get(t.Context(), "fresh"); err != nil {
			t.Fatalf("fresh task swept: %v", err)
		}
		if n, err := st.Sweep(t.Context()); err != nil || n != 0 {
			t.Fatalf("second sweep = %d, %v", n, err)
		}
	}},
}

func TestConformance(t *testing.T) {
	for _, impl := range []implementation{memoryImplementation, postgresImplementation} {
		t.Run(impl.name, func(t *testing.T) {
			factory := impl.setup(t)
			for _, tc := range conformanceCases {
				t.Run(tc.name, func(t *testing.T) {
					c := &clock{now: time.UnixMilli(start)}
					tc.run(t, factory(t, c), c)
				})
			}
		})
	}
}

// TestPostgresNotifies: Finish and Cancel announce the change on NotifyChannel, so
// other replicas learn of it.
func TestPostgresNotifies(t *testing.T) {
	pool := migratedPool(t)
	st := NewPostgres(pool, nil)
	conn, err := pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(t.Context(), "LISTEN "+NotifyChannel); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for _, id := range []string{"f", "c"} {
		if err := st.Create(t.Context(), Task{ID: id, Status: Working, CreatedUnixMs: now, UpdatedUnixMs: now, TTLMs: 60_000}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Finish(t.Context(), "f", Outcome{Status: Completed, Result: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Cancel(t.Context(), "c", "stop"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got []string
	for range 2 {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("waiting for notifications (got %v): %v", got, err)
		}
		got = append(got, n.Payload)
	}
	if want := []string{EncodePayload(KindFinished, "f"), EncodePayload(KindCancelled, "c")}; !slices.Equal(got, want) {
		t.Fatalf("payloads %q, want %q", got, want)
	}
	for _, p := range got {
		if kind, id, ok := DecodePayload(p); !ok || (kind != KindFinished && kind != KindCancelled) || id == "" {
			t.Fatalf("DecodePayload(%q) = %c %q %v", p, kind, id, ok)
		}
	}
	for _, junk := range []string{"", "f", "x1"} {
		if _, _, ok := DecodePayload(junk); ok {
			t.Errorf("DecodePayload(%q) accepted junk", junk)
		}
	}
}

// jsonEqual compares JSON texts by value.
func jsonEqual(got []byte, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}
