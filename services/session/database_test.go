package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// newDB returns a pool on a fresh, migrated database.
func newDB(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		for range 2 { // replicas starting together each migrate; the second finds nothing to do
			if err := Migrate(ctx, pool, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestSessionOnAnyReplica runs one session across three replicas sharing a database:
// initialize on one, requests on another, delete on a third.
func TestSessionOnAnyReplica(t *testing.T) {
	db := newDB(t)
	a, b, c := newHarnessOn(t, db, true, nil), newHarnessOn(t, db, true, nil), newHarnessOn(t, db, true, nil)
	sess := a.initialize(t, "2025-11-25")

	b.mustResult(t, stateful(sess, "logging/setLevel", `{"level":"error"}`))
	if _, err := b.handle(t, &sessionv1.HandleRequest{SessionId: sess.GetId(), Method: "notifications/initialized", Notification: true}); err != nil {
		t.Fatal(err)
	}
	got, err := c.client.GetSession(t.Context(), &sessionv1.GetSessionRequest{SessionId: sess.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.GetSession(); s.GetLogLevel() != "error" || !s.GetInitialized() || string(s.GetClientInfo()) != `{"name":"test","version":"1"}` {
		t.Fatalf("session seen by the third replica = %v", s)
	}
	a.mustResult(t, stateful(sess, "tools/list", `{}`))

	if _, err := c.client.DeleteSession(t.Context(), &sessionv1.DeleteSessionRequest{SessionId: sess.GetId()}); err != nil {
		t.Fatal(err)
	}
	// A replica holding a cached copy drops it when the deletion's announcement arrives
	// (milliseconds; session.read_cache_ttl at the latest).
	for name, h := range map[string]*harness{"a": a, "b": b} {
		eventually.NoError(t, 5*time.Second, func() error {
			_, err := h.handle(t, stateful(sess, "ping", ""))
			switch {
			case err == nil:
				return errors.New("ping succeeded, want NotFound")
			case status.Code(err) != codes.NotFound:
				return fmt.Errorf("ping: %w, want NotFound", err)
			}
			return nil
		}, "replica %s sees the session deleted elsewhere", name)
	}
}

// TestStoreUnavailable checks that requests needing an unreachable database fail at
// once with a retryable status and a message a person can act on.
func TestStoreUnavailable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	db, err := pgxpool.New(t.Context(), "postgres://postgres@"+addr+"/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	h := newHarnessOn(t, db, true, nil)

	_, err = h.client.Initialize(t.Context(), &sessionv1.InitializeRequest{
		Params: []byte(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"1"}}`),
	})
	wantUnavailable(t, "initialize", err, addr)
	_, err = h.handle(t, stateful(&sessionv1.Session{Id: "some-session"}, "ping", ""))
	wantUnavailable(t, "handle", err, addr)
	_, err = h.client.GetSession(t.Context(), &sessionv1.GetSessionRequest{SessionId: "some-session"})
	wantUnavailable(t, "get", err, addr)
	_, err = h.client.DeleteSession(t.Context(), &sessionv1.DeleteSessionRequest{SessionId: "some-session"})
	wantUnavailable(t, "delete", err, addr)
}

func wantUnavailable(t *testing.T, what string, err error, addr string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || st.Message() != "session store unavailable, retry" {
		t.Errorf("%s with the database down: %v, want Unavailable", what, err)
	}
	if strings.Contains(st.Message(), addr) {
		t.Errorf("%s: database address leaked to the caller: %q", what, st.Message())
	}
}

// TestExpirySweepOnPostgres checks that the service's sweeper removes idle sessions
// from the shared table.
func TestExpirySweepOnPostgres(t *testing.T) {
	db := newDB(t)
	h := newHarnessOn(t, db, true, func(c *Config) {
		c.SessionIdleTimeout = 50 * time.Millisecond
		c.SweepInterval = 10 * time.Millisecond
	})
	sess := h.initialize(t, "2025-11-25")
	rows := func() int {
		var n int
		if err := db.QueryRow(t.Context(), `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "the sweeper to remove the idle session", func() bool { return rows() == 0 })
	if _, err := h.handle(t, stateful(sess, "ping", "")); status.Code(err) != codes.NotFound {
		t.Fatalf("expired session: %v", err)
	}
}
