package events_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
	"github.com/mcpmesh/mcpmesh/services/session/internal/migrations"
	"github.com/mcpmesh/mcpmesh/services/session/internal/pending"
)

// replica is one session replica's share of the cross-replica machinery, wired the
// way the service wires it.
type replica struct {
	waker    *events.Waker
	events   *events.Postgres
	pending  *pending.Postgres
	listener *pgnotify.Listener
}

func newReplica(t *testing.T, pool *pgxpool.Pool, name string, poll time.Duration) *replica {
	t.Helper()
	r := &replica{waker: events.NewWaker()}
	r.events = events.NewPostgres(pool, 100, r.waker, nil)
	r.pending = pending.NewPostgres(pool, nil, nil)
	r.listener = pgnotify.NewFromPool(pool, pgnotify.Settings{
		Handlers: map[string]pgnotify.Handler{
			events.NotifyChannel:  r.waker.Wake,
			pending.NotifyChannel: r.pending.Notified,
		},
		OnResync: func() {
			r.waker.WakeAll()
			r.pending.Resync()
		},
		PollInterval:    poll,
		ApplicationName: name,
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.pending.Run(ctx) })
	wg.Go(func() { r.listener.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, name+" listening", r.listener.Healthy)
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually.True(t, 20*time.Second, cond, "%s", what)
}

func migratedPool(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		return pgdb.Migrate(ctx, pool, "session", migrations.FS, nil)
	})
}

func receiveWithin(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// An event appended on one replica wakes the session's reader on another, and an
// answer delivered on one replica reaches the waiter on another — through NOTIFY (the
// poll is an hour, so only a notification can do it).
func TestCrossReplicaWakeAndAnswer(t *testing.T) {
	pool := migratedPool(t)
	a := newReplica(t, pool, "replica-a", time.Hour)
	b := newReplica(t, pool, "replica-b", time.Hour)

	watch := b.waker.Watch("s")
	defer watch.Close()
	wake := watch.C()
	if err := a.events.Append(t.Context(), "s", events.Draft{Method: "notifications/resources/updated", Params: []byte(`{"uri":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	receiveWithin(t, wake, "the reader on replica b to wake")
	got, err := b.events.Read(t.Context(), "s", 0, 10)
	if err != nil || len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("read on replica b: %+v, %v", got, err)
	}

	w, err := b.pending.Expect(t.Context(), "s", []byte(`"q1"`))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	delivered, err := a.pending.Deliver(t.Context(), "s", []byte(`"q1"`), pending.Answer{Result: []byte(`{"ok":1}`)})
	if err != nil || !delivered {
		t.Fatalf("deliver on replica a: %v, %v", delivered, err)
	}
	select {
	case ans := <-w.C():
		if string(ans.Result) != `{"ok":1}` {
			t.Fatalf("answer %s", ans.Result)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the answer did not reach replica b")
	}
}

// With notifications lost (nobody listens on replica b's channels while the answer
// is stored), the poll's resync still hands the answer over.
func TestPollMakesUpForALostNotification(t *testing.T) {
	pool := migratedPool(t)
	b := newReplica(t, pool, "replica-b", 20*time.Millisecond)
	other := pending.NewPostgres(pool, nil, nil)
	w, err := b.pending.Expect(t.Context(), "s", []byte(`7`))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Store the answer the way Deliver does, minus the notification.
	if _, err := pool.Exec(t.Context(), `UPDATE session_pending SET answer = $1 WHERE session_id = 's'`, []byte(`{"result":"Mg=="}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case ans := <-w.C():
		if string(ans.Result) != "2" {
			t.Fatalf("answer %q", ans.Result)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the poll did not hand the answer over")
	}
	if ok, err := other.Deliver(t.Context(), "s", []byte(`7`), pending.Answer{Result: []byte(`3`)}); err != nil || ok {
		t.Fatalf("deliver after the answer was taken: %v, %v", ok, err)
	}
}
