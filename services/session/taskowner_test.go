package session

import (
	"strings"
	"sync"
	"testing"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// TestTasksBelongToTheirPrincipal: a stateless task, which no session protects, is
// found only by the principal that created it (another principal gets the answer of
// an unknown task), and each principal may have session.task_max_per_principal
// unfinished tasks, counted apart from the others'.
func TestTasksBelongToTheirPrincipal(t *testing.T) {
	stop := make(chan struct{})
	var drained sync.WaitGroup
	t.Cleanup(func() { close(stop); drained.Wait() })
	h := newHarnessWith(t, nil, taskFixture, func(c *Config) { c.TaskMaxPerPrincipal = 2 })
	drained.Add(1)
	go func() { // the blocking calls' signals, drained until the harness stops them
		defer drained.Done()
		for {
			select {
			case <-h.provider.blockStarted:
			case <-h.provider.blockEnded:
			case <-stop:
				return
			}
		}
	}()
	call := func(p *principal.Principal, req *sessionv1.HandleRequest) handled {
		t.Helper()
		ev, err := h.handleAs(t, p, req)
		if err != nil {
			t.Fatalf("%s as %s: %v", req.GetMethod(), p.Subject, err)
		}
		return ev
	}
	created := call(alice, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`))
	if created.err != nil {
		t.Fatalf("alice's task: %v", created.err)
	}
	task := decodeTask(t, created.rawResult)

	if got := call(alice, statelessTasks("tasks/get", taskParams(task.TaskID))); got.err != nil {
		t.Fatalf("the owner cannot get her task: %v", got.err)
	}
	foreign := call(bob, statelessTasks("tasks/get", taskParams(task.TaskID))).err
	unknown := call(bob, statelessTasks("tasks/get", taskParams("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))).err
	if foreign == nil || unknown == nil || foreign.GetCode() != unknown.GetCode() || foreign.GetMessage() != unknown.GetMessage() {
		t.Fatalf("another principal's task answers %v, an unknown one %v: they must look alike", foreign, unknown)
	}
	if got := call(bob, statelessTasks("tasks/cancel", taskParams(task.TaskID))).err; got == nil {
		t.Fatal("bob cancelled alice's task")
	}

	if got := call(alice, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`)); got.err != nil {
		t.Fatalf("alice's second task: %v", got.err)
	}
	refused := call(alice, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`)).err
	if refused.GetCode() != -32000 || !strings.Contains(refused.GetMessage(), "you have 2 unfinished tasks") || !strings.Contains(string(refused.GetData()), `"limit":2`) {
		t.Fatalf("alice's third task: %v; want -32000 Too many tasks with limit 2", refused)
	}
	if got := call(bob, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`)); got.err != nil {
		t.Fatalf("bob's first task is refused for alice's count: %v", got.err)
	}
	if got := call(alice, statelessTasks("tasks/cancel", taskParams(task.TaskID))); got.err != nil {
		t.Fatalf("alice cancels her task: %v", got.err)
	}
	waitFor(t, "a cancelled task to free alice's count", func() bool {
		return call(alice, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`)).err == nil
	})
}
