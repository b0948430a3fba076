package grpcserver

import "time"

// workerPool runs stream handlers on goroutines that outlive one stream. A handler
// that decodes JSON needs a stack of tens of KB; a fresh goroutine starts small and
// copies its stack several times as it grows, which cost about 15% of the CPU of an
// in-process tools/call. A worker keeps its grown stack for the next stream.
//
// Workers are made on demand and end after idleWorker without work, so an idle
// process (or a test) keeps none; there is no limit: a stream never waits for a
// worker.
type workerPool struct {
	work chan *inprocStream
}

// idleWorker is how long a worker waits for the next stream before it ends.
const idleWorker = 100 * time.Millisecond

func newWorkerPool() workerPool { return workerPool{work: make(chan *inprocStream)} }

// run runs s's handler on an idle worker, or on a new one when none is idle.
func (p workerPool) run(s *inprocStream) {
	select {
	case p.work <- s:
	default:
		go p.worker(s)
	}
}

func (p workerPool) worker(s *inprocStream) {
	s.run()
	idle := time.NewTimer(idleWorker)
	defer idle.Stop()
	for {
		select {
		case s := <-p.work:
			s.run()
			idle.Reset(idleWorker)
		case <-idle.C:
			return
		}
	}
}
