package pgnotify

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	kiteventually "github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// deadline bounds every wait for an asynchronous outcome.
const deadline = 20 * time.Second

// newPool opens a pool on a fresh database.
func newPool(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, nil)
}

// start runs l until the test ends (or until the returned stop is called) and
// waits for Run to return.
func start(t *testing.T, l *Listener) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(deadline):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	kiteventually.True(t, deadline, cond, "%s", what)
}

// collector records a channel's payloads without blocking the listener.
type collector struct {
	mu       sync.Mutex
	payloads []string
}

func (c *collector) handle(payload string) {
	c.mu.Lock()
	c.payloads = append(c.payloads, payload)
	c.mu.Unlock()
}

func (c *collector) has(payload string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.payloads {
		if p == payload {
			return true
		}
	}
	return false
}

func (c *collector) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.payloads...)
}

func notify(t *testing.T, pool *pgxpool.Pool, channel, payload string) {
	t.Helper()
	if _, err := pool.Exec(t.Context(), `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		t.Fatalf("notify %s: %v", channel, err)
	}
}

func TestNotificationsReachTheirChannelsHandler(t *testing.T) {
	pool := newPool(t)
	var a, b collector
	var resyncs atomic.Int64
	const odd = `Odd "channel" name`
	l := NewFromPool(pool, Settings{
		Handlers:     map[string]Handler{"chan_a": a.handle, odd: b.handle},
		OnResync:     func() { resyncs.Add(1) },
		PollInterval: time.Hour,
	})
	start(t, l)
	eventually(t, "the listener is listening", func() bool { return resyncs.Load() >= 1 && l.Healthy() })
	notify(t, pool, "chan_a", "one")
	notify(t, pool, odd, "two")
	notify(t, pool, "chan_unheard", "three")
	notify(t, pool, "chan_a", "four")
	eventually(t, "both channels' notifications arrived", func() bool { return a.has("four") && b.has("two") })
	if got := a.all(); len(got) != 2 || got[0] != "one" || got[1] != "four" {
		t.Errorf("chan_a got %q, want [one four] in order", got)
	}
	if got := b.all(); len(got) != 1 {
		t.Errorf("odd channel got %q, want [two]", got)
	}
}

func TestReconnectsAfterTheBackendIsTerminated(t *testing.T) {
	pool := newPool(t)
	var got collector
	var resyncs atomic.Int64
	l := NewFromPool(pool, Settings{
		Handlers:     map[string]Handler{"chan": got.handle},
		OnResync:     func() { resyncs.Add(1) },
		PollInterval: time.Hour, // only (re)connects resync in this test
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   50 * time.Millisecond,
	})
	start(t, l)
	eventually(t, "the listener is listening", func() bool { return resyncs.Load() >= 1 && l.Healthy() })
	var terminated bool
	err := pool.QueryRow(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, DefaultApplicationName).Scan(&terminated)
	if err != nil || !terminated {
		t.Fatalf("terminate the listener's backend: %v, %v", terminated, err)
	}
	eventually(t, "the listener reconnected and resynced", func() bool { return resyncs.Load() >= 2 && l.Healthy() })
	notify(t, pool, "chan", "after")
	eventually(t, "a notification arrives on the new connection", func() bool { return got.has("after") })
}

func TestPollResyncsWhileConnected(t *testing.T) {
	pool := newPool(t)
	var got collector
	var resyncs atomic.Int64
	l := NewFromPool(pool, Settings{
		Handlers:     map[string]Handler{"chan": got.handle},
		OnResync:     func() { resyncs.Add(1) },
		PollInterval: 10 * time.Millisecond,
	})
	start(t, l)
	eventually(t, "several polls", func() bool { return resyncs.Load() >= 4 })
	// The polls' interrupted waits left the connection usable.
	notify(t, pool, "chan", "x")
	eventually(t, "a notification after the polls", func() bool { return got.has("x") })
	if !l.Healthy() {
		t.Error("Healthy() = false on a working connection")
	}
}

func TestUnreachableDatabase(t *testing.T) {
	cfg, err := pgx.ParseConfig("postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	var resyncs atomic.Int64
	l := New(cfg, Settings{
		Handlers:   map[string]Handler{"chan": func(string) {}},
		OnResync:   func() { resyncs.Add(1) },
		MinBackoff: time.Millisecond,
		MaxBackoff: 2 * time.Millisecond,
	})
	stop := start(t, l)
	stop() // Run returns while retrying
	if l.Healthy() || resyncs.Load() != 0 {
		t.Fatalf("Healthy() = %v, resyncs = %d without a database", l.Healthy(), resyncs.Load())
	}
}

func TestStopClosesTheConnection(t *testing.T) {
	pool := newPool(t)
	var resyncs atomic.Int64
	l := NewFromPool(pool, Settings{Handlers: map[string]Handler{"chan": func(string) {}}, OnResync: func() { resyncs.Add(1) }})
	stop := start(t, l)
	eventually(t, "the listener is listening", func() bool { return resyncs.Load() >= 1 })
	stop()
	if l.Healthy() {
		t.Error("Healthy() = true after Run returned")
	}
	eventually(t, "the backend is gone", func() bool {
		var n int
		err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, DefaultApplicationName).Scan(&n)
		return err == nil && n == 0
	})
}
