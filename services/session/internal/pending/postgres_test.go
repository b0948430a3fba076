package pending

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/services/session/internal/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migratedPool opens a pool on a fresh database holding the session tables.
func migratedPool(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		return pgdb.Migrate(ctx, pool, "session", migrations.FS, nil)
	})
}

// running returns a store on pool whose Run loop lives until the test ends.
func running(t *testing.T, pool *pgxpool.Pool, now func() time.Time) *Postgres {
	t.Helper()
	p := NewPostgres(pool, now, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return p
}

var postgresImplementation = implementation{"postgres", func(t *testing.T) func(*testing.T) Store {
	pool := migratedPool(t)
	return func(t *testing.T) Store {
		if _, err := pool.Exec(t.Context(), `TRUNCATE session_pending`); err != nil {
			t.Fatal(err)
		}
		return running(t, pool, nil)
	}
}}

// An answer delivered through another replica reaches the waiter when the
// notification arrives, or, if it was lost, on the next resync.
func TestPostgresAnswerThroughAnotherReplica(t *testing.T) {
	pool := migratedPool(t)
	waiting, other := running(t, pool, nil), running(t, pool, nil)
	tests := []struct {
		name   string
		signal func(payload string)
	}{
		{"notification", waiting.Notified},
		{"resync after a lost notification", func(string) { waiting.Resync() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := expect(t, waiting, "s", `"r1"`)
			if !deliver(t, other, "s", `"\u0072\u0031"`, result(`{"v":1}`)) {
				t.Fatal("deliver through the other replica = false")
			}
			select {
			case a := <-w.C():
				t.Fatalf("answer %+v arrived before any signal", a)
			default:
			}
			tt.signal(EncodePayload("s", "sr1"))
			if got := receive(t, w); string(got.Result) != `{"v":1}` {
				t.Fatalf("answer %s", got.Result)
			}
			if n := waiting.Waiting(); n != 0 {
				t.Fatalf("%d waiters left", n)
			}
			var rows int
			if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM session_pending`).Scan(&rows); err != nil || rows != 0 {
				t.Fatalf("%d rows left (%v)", rows, err)
			}
		})
	}
}

// A notification for a request this replica does not wait for, or a junk payload,
// changes nothing.
func TestPostgresForeignNotificationsAreIgnored(t *testing.T) {
	pool := migratedPool(t)
	p := running(t, pool, nil)
	w := expect(t, p, "s", `"r1"`)
	for _, payload := range []string{"", "x", "1:", "9:s", EncodePayload("s", "sr2"), EncodePayload("t", "sr1")} {
		p.Notified(payload)
	}
	if n := p.Waiting(); n != 1 {
		t.Fatalf("%d waiters, want 1", n)
	}
	if !deliver(t, p, "s", `"r1"`, result(`1`)) {
		t.Fatal("deliver = false")
	}
	receive(t, w)
}

func TestPostgresSweep(t *testing.T) {
	pool := migratedPool(t)
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	p := NewPostgres(pool, clock, nil)
	p.batch = 2
	for _, id := range []string{`1`, `2`, `3`} {
		expect(t, p, "s", id)
	}
	now = now.Add(time.Hour)
	fresh := expect(t, p, "s", `4`)
	n, err := p.Sweep(t.Context(), now.Add(-time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("sweep = %d, %v; want 3", n, err)
	}
	if deliver(t, p, "s", `1`, result(`1`)) {
		t.Fatal("deliver to a swept request = true")
	}
	if !deliver(t, p, "s", `4`, result(`4`)) {
		t.Fatal("deliver to a fresh request = false")
	}
	receive(t, fresh)
}

func TestPayloadRoundTrip(t *testing.T) {
	for _, c := range []struct{ session, key string }{
		{"s", "sr1"}, {"", "n1"}, {"a:b", "s:x"}, {"12:ab", ""}, {"ünï", "s\u2028"},
	} {
		s, k, ok := DecodePayload(EncodePayload(c.session, c.key))
		if !ok || s != c.session || k != c.key {
			t.Errorf("round trip of (%q, %q) = (%q, %q, %v)", c.session, c.key, s, k, ok)
		}
	}
	for _, junk := range []string{"", ":", "x:", "-1:a", "01:a", "+1:a", "3:ab", "99999999999999999999:a"} {
		if s, k, ok := DecodePayload(junk); ok {
			t.Errorf("DecodePayload(%q) = (%q, %q, true)", junk, s, k)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	for _, seed := range []string{"1:ssr1", "0:", "3:a:bs", "x", "-1:"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		s, k, ok := DecodePayload(payload)
		if ok && EncodePayload(s, k) != payload {
			t.Fatalf("DecodePayload(%q) = (%q, %q) does not encode back", payload, s, k)
		}
	})
}

func TestAnswerEncodingRoundTrip(t *testing.T) {
	for _, a := range []Answer{
		{Result: []byte(`{"a":1}`)},
		{Result: []byte("not json \xff")},
		{Error: &Error{Code: -1, Message: "m"}},
		{Error: &Error{Code: 5, Message: "", Data: []byte(`[1]`)}},
	} {
		b, err := encodeAnswer(a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeAnswer(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Result) != string(a.Result) || (got.Error == nil) != (a.Error == nil) ||
			(a.Error != nil && (got.Error.Code != a.Error.Code || got.Error.Message != a.Error.Message || string(got.Error.Data) != string(a.Error.Data))) {
			t.Errorf("round trip of %+v = %+v", a, got)
		}
	}
	if _, err := decodeAnswer([]byte("{")); err == nil {
		t.Error("decoding junk succeeded")
	}
}

func TestPostgresUnreachableIsUnavailable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@"+addr+"/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p := NewPostgres(pool, nil, nil)
	ctx := t.Context()
	ops := map[string]func() error{
		"expect":  func() error { _, err := p.Expect(ctx, "s", []byte(`1`)); return err },
		"deliver": func() error { _, err := p.Deliver(ctx, "s", []byte(`1`), result(`1`)); return err },
		"sweep":   func() error { _, err := p.Sweep(ctx, time.Now()); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s against an unreachable database: %v, want ErrUnavailable", name, err)
		}
	}
	if n := p.Waiting(); n != 0 {
		t.Errorf("a failed expect left %d waiters", n)
	}
}
