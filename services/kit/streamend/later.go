package streamend

import (
	"context"

	"github.com/mcpmesh/mcpmesh/services/kit/workers"
)

// Later is the context of a call whose stream's end may be read after the caller has
// returned.
//
// Why: a caller that reads the end before it returns makes its own answer wait until
// the callee's goroutine has run once more after its last message. On a process with
// one CPU and a thousand calls in flight that goroutine can wait in the scheduler's
// queues for seconds, and the caller's caller with it (docs/performance.md, "The
// latency tail"); a caller that leaves without reading cancels the call, which then
// ends as CANCELLED on its side. Read in the background, the end costs a goroutine and
// delays nobody.
//
// Until ReadLater the call follows the parent context: the caller's end cancels it.
type Later struct {
	ctx      context.Context
	cancel   context.CancelFunc
	stop     func() bool // stops following the parent
	detached bool
	read     func(ctx context.Context)
}

// readers run the reads of ReadLater on workers that keep their grown stacks (a read
// ends the call's telemetry, which goes deep).
var readers = workers.New(func(l *Later) {
	defer l.cancel()
	l.read(l.ctx)
})

// NewLater derives a call's context from parent, with parent's values and deadline
// (so a read of the end is bounded as the call was). Call End when the caller returns.
func NewLater(parent context.Context) *Later {
	var ctx context.Context
	var cancel context.CancelFunc
	if deadline, ok := parent.Deadline(); ok {
		ctx, cancel = context.WithDeadline(context.WithoutCancel(parent), deadline)
	} else {
		ctx, cancel = context.WithCancel(context.WithoutCancel(parent))
	}
	follow := func() {
		// At parent's deadline the call's own deadline ends it, as DeadlineExceeded;
		// cancelling here could win the race and turn a timeout into a cancellation.
		if parent.Err() != context.DeadlineExceeded { //nolint:errorlint // a context's own error
			cancel()
		}
	}
	return &Later{ctx: ctx, cancel: cancel, stop: context.AfterFunc(parent, follow)}
}

// Context is the call's context.
func (l *Later) Context() context.Context { return l.ctx }

// ReadLater runs read (which reads the stream's end) on a worker goroutine and ends
// the call after it. When the parent has already ended, the call is cancelled
// and there is nothing to read.
func (l *Later) ReadLater(read func(ctx context.Context)) {
	if !l.stop() {
		return
	}
	l.detached = true
	l.read = read
	readers.Run(l)
}

// End ends the call unless ReadLater has taken it over.
func (l *Later) End() {
	if !l.detached {
		l.stop()
		l.cancel()
	}
}
