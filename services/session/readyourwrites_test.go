package session

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestReadYourWritesAcrossReplicas: a session's own write through one replica is seen
// by its next request through another replica at once, even when that replica's
// notification listener has not delivered the change's announcement: its listener's
// connection is held in a TCP relay (what a congested network or a stalled reader does),
// so the announcement is still undelivered when the next request arrives. The other
// replica has the session in its read cache (session.read_cache_ttl, default 1s) from a
// request before the write.
func TestReadYourWritesAcrossReplicas(t *testing.T) {
	db := newDB(t)
	relay := newHoldingRelay(t, db.Config().ConnConfig.Host+":"+strconv.Itoa(int(db.Config().ConnConfig.Port)))
	// Replica b reaches the database through the relay, replica a directly. The poll
	// that drops every cached copy (session.notify_poll_interval) is pushed out of the
	// test's reach: only the mechanism under test may make b see the write.
	noPoll := func(c *Config) { c.NotifyPollInterval = time.Hour }
	a := newHarnessOn(t, db, true, noPoll)
	b := newHarnessOn(t, relay.pool(t, db), true, noPoll)
	waitFor(t, "b's notification listener", b.svc.backend.Listener.Healthy)

	sess := a.initialize(t, "2025-11-25")
	call := stateful(sess, "tools/call", `{"name":"echo","arguments":{}}`)
	b.mustResult(t, call) // b caches the session, at no log level

	// Hold b's listener connection: found by what the database calls it, through the
	// relay's side of the connection.
	var ports []int
	rows, err := db.Query(t.Context(), `SELECT client_port FROM pg_stat_activity WHERE application_name = $1`, pgnotify.DefaultApplicationName)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var port int
		if err := rows.Scan(&port); err != nil {
			t.Fatal(err)
		}
		ports = append(ports, port)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	held := relay.hold(ports)
	if held == nil {
		t.Fatalf("b's listener connection is not among the relay's (listener ports %v)", ports)
	}

	a.mustResult(t, stateful(sess, "logging/setLevel", `{"level":"error"}`))
	ev := b.mustResult(t, call)
	if got := b.provider.lastCall.GetContext().GetLogLevel(); got != "error" {
		t.Errorf("the call through b ran at log level %q, want the level just set through a (error)", got)
	}
	for _, n := range ev.notifications {
		var msg struct {
			Level string `json:"level"`
		}
		if n.GetMethod() == "notifications/message" && (json.Unmarshal(n.GetParams(), &msg) != nil || msg.Level != "error") {
			t.Errorf("b sent a log message below the level set through a: %s", n.GetParams())
		}
	}
	if _, err := a.client.DeleteSession(t.Context(), &sessionv1.DeleteSessionRequest{SessionId: sess.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.handle(t, stateful(sess, "ping", "")); status.Code(err) != codes.NotFound {
		t.Errorf("ping through b right after the DELETE through a: %v, want NotFound", err)
	}
	// The announcements were still undelivered: what b saw, it did not learn from them.
	if !held.heldBack(sess.GetId()) {
		t.Fatal("the change announcements were not held back on b's listener connection: the test proves nothing")
	}
	held.release()
}
