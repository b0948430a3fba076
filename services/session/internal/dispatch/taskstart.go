package dispatch

import (
	"context"
	"sync"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// taskStartWait bounds how long a stateless tools/call that becomes a task waits for
// its provider's first event before it answers with the task handle. Only a provider
// that answers at once with input_required before_task (ask before the task exists)
// changes the answer; any other first event, or none, gives the handle.
const taskStartWait = 100 * time.Millisecond

// taskStart is the hand-over between the request that creates a task and the task's
// run: the run may hand its provider's first input_required back, when the provider
// marked it before_task and the request has not answered yet; the task is then
// abandoned and the request answers with a multi round-trip result instead.
type taskStart struct {
	started chan struct{} // closed at the provider's first event or a hand-back
	once    sync.Once

	mu      sync.Mutex
	decided bool // the request answered (or is answering) with the handle
	ir      *mcpv1.InputRequired
}

func newTaskStart() *taskStart { return &taskStart{started: make(chan struct{})} }

// begun tells the request that the provider has answered something: no hand-back can
// come any more, unless handBack is called first.
func (s *taskStart) begun() {
	if s != nil {
		s.once.Do(func() { close(s.started) })
	}
}

// handBack offers ir to the request; true when it took it (the run must end without
// recording an outcome), false when the task handle is out already.
func (s *taskStart) handBack(ir *mcpv1.InputRequired) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decided {
		return false
	}
	s.decided, s.ir = true, ir
	s.begun()
	return true
}

// await waits for the provider's first event (at most taskStartWait) and returns the
// input_required handed back, or nil: then the request answers with the task handle
// and no hand-back is taken any more.
func (s *taskStart) await(ctx context.Context) *mcpv1.InputRequired {
	t := time.NewTimer(taskStartWait)
	defer t.Stop()
	select {
	case <-s.started:
	case <-t.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decided = true
	return s.ir
}
