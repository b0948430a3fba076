package session

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// listenAs opens a subscriptions/listen stream as p and returns a function that reads
// its next notification.
func (h *harness) listenAs(t *testing.T, p *principal.Principal, notifications string) func() *sessionv1.Notification {
	t.Helper()
	ctx, cancel := context.WithTimeout(principal.NewContext(t.Context(), p), 20*time.Second)
	t.Cleanup(cancel)
	stream, err := h.client.Handle(ctx, statelessTasks("subscriptions/listen", `{"notifications":`+notifications+`}`))
	if err != nil {
		t.Fatal(err)
	}
	return func() *sessionv1.Notification {
		t.Helper()
		resp, err := stream.Recv()
		if err != nil || resp.GetNotification() == nil {
			t.Fatalf("listen stream of %s: %v %v", p.Subject, resp, err)
		}
		return resp.GetNotification()
	}
}

// TestListenFollowsOnlyWhatThePrincipalMaySee: a subscriptions/listen stream follows
// the tasks of its own principal only (another principal's task, named by its id, is
// never reported: its status and result would leak), and following a resource needs
// the permission to read it, as resources/subscribe does.
func TestListenFollowsOnlyWhatThePrincipalMaySee(t *testing.T) {
	stop := make(chan struct{})
	var drained sync.WaitGroup
	t.Cleanup(func() { close(stop); drained.Wait() })
	h := newHarnessWith(t, nil, taskFixture, nil)
	drained.Go(func() { // the blocking calls' signals, drained until the harness stops them
		for {
			select {
			case <-h.provider.blockStarted:
			case <-h.provider.blockEnded:
			case <-stop:
				return
			}
		}
	})
	start := func(p *principal.Principal) string {
		t.Helper()
		ev, err := h.handleAs(t, p, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`))
		if err != nil || ev.err != nil {
			t.Fatalf("%s's task: %v %v", p.Subject, err, ev.err)
		}
		return decodeTask(t, ev.rawResult).TaskID
	}
	cancelTask := func(p *principal.Principal, id string) {
		t.Helper()
		if ev, err := h.handleAs(t, p, statelessTasks("tasks/cancel", taskParams(id))); err != nil || ev.err != nil {
			t.Fatalf("%s cancels %s: %v %v", p.Subject, id, err, ev.err)
		}
	}
	// untilCancelled reads a stream until id is reported cancelled, and returns every
	// notification's params on the way.
	untilCancelled := func(next func() *sessionv1.Notification, id string) string {
		t.Helper()
		var seen strings.Builder
		for {
			n := next()
			seen.WriteString(n.GetMethod() + " " + string(n.GetParams()) + "\n")
			if n.GetMethod() == "notifications/tasks" && strings.Contains(string(n.GetParams()), `"taskId":"`+id+`"`) &&
				strings.Contains(string(n.GetParams()), `"status":"cancelled"`) {
				return seen.String()
			}
		}
	}
	aliceTask, bobTask := start(alice), start(bob)
	aliceListens := h.listenAs(t, alice, `{"taskIds":["`+aliceTask+`"]}`)
	bobListens := h.listenAs(t, bob, `{"taskIds":["`+aliceTask+`","`+bobTask+`"]}`)
	for _, next := range []func() *sessionv1.Notification{aliceListens, bobListens} {
		if ack := next(); ack.GetMethod() != "notifications/subscriptions/acknowledged" {
			t.Fatalf("first message %s %s", ack.GetMethod(), ack.GetParams())
		}
	}
	// Alice's task ends first, and her stream reports it; bob's stream hears of it
	// before it hears of his own task's end, and must have said nothing of it.
	cancelTask(alice, aliceTask)
	untilCancelled(aliceListens, aliceTask)
	cancelTask(bob, bobTask)
	if seen := untilCancelled(bobListens, bobTask); strings.Contains(seen, aliceTask) {
		t.Fatalf("bob's listen stream reported alice's task:\n%s", seen)
	}
}

// TestListenToAResourceNeedsReadPermission: resourceSubscriptions of
// subscriptions/listen are authorized like resources/subscribe.
func TestListenToAResourceNeedsReadPermission(t *testing.T) {
	h := newAuthzHarness(t, testRules, nil)
	req := stateless("subscriptions/listen", `{`+statelessMeta+`,"notifications":{"resourceSubscriptions":["mem://a"]}}`)
	first := func(p *principal.Principal) (*sessionv1.HandleResponse, error) {
		ctx, cancel := context.WithTimeout(as(t, p), 10*time.Second)
		t.Cleanup(cancel)
		stream, err := h.client.Handle(ctx, req)
		if err != nil {
			return nil, err
		}
		return stream.Recv()
	}
	resp, err := first(bob)
	if err == nil {
		t.Fatalf("bob listens to mem://a: %v, want the step-up for files", resp)
	}
	if reason, scopes := denial(t, err); reason != reasonInsufficientScope || scopes != "files" {
		t.Fatalf("bob listens to mem://a: %s %q, want the step-up for files", reason, scopes)
	}
	if resp, err := first(alice); err != nil || resp.GetNotification().GetMethod() != "notifications/subscriptions/acknowledged" {
		t.Fatalf("alice listens to mem://a: %v %v", resp, err)
	}
}
