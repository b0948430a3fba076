// Package workers runs jobs on goroutines that outlive one job.
//
// Why: a job that goes deep (a stream handler decoding JSON, a stream's end recorded by
// the telemetry) needs a stack of tens of KB; a fresh goroutine starts small and copies
// its stack several times as it grows, which cost about 15% of the CPU of an in-process
// tools/call. A worker keeps its grown stack for the next job.
//
// Workers are made on demand and end after Idle without work, so an idle process (or
// a test) keeps none; there is no limit: a job never waits for a worker.
package workers

import "time"

// Idle is how long a worker waits for the next job before it ends.
const Idle = 100 * time.Millisecond

// Pool runs jobs of type T with do.
type Pool[T any] struct {
	work chan T
	do   func(T)
}

// New returns a pool that runs each job with do.
func New[T any](do func(T)) Pool[T] { return Pool[T]{work: make(chan T), do: do} }

// Run runs job on an idle worker, or on a new one when none is idle.
func (p Pool[T]) Run(job T) {
	select {
	case p.work <- job:
	default:
		go p.worker(job)
	}
}

func (p Pool[T]) worker(job T) {
	p.do(job)
	idle := time.NewTimer(Idle)
	defer idle.Stop()
	for {
		select {
		case job := <-p.work:
			p.do(job)
			idle.Reset(Idle)
		case <-idle.C:
			return
		}
	}
}
