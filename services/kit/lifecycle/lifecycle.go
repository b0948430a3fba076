// Package lifecycle is the one lifecycle contract of the mesh's services: a state
// machine (New → Starting → Running → Stopping → Terminated, or Failed with a cause)
// around three optional functions — starting, running, stopping — and the goroutines
// the service owns. Every service embeds a *Service, so callers start, stop and watch
// all of them the same way, and no service hand-writes its own Start/Stop.
//
// The loops of a service run under its own context, which Stop (or a failure) ends,
// never the context that started it: a start-up deadline must not end the loops.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// State is where a service is in its life.
type State int

// The states, in the only order a service passes through them. Failed may follow
// Starting, Running or Stopping.
const (
	New State = iota
	Starting
	Running
	Stopping
	Terminated
	Failed
)

func (s State) String() string {
	switch s {
	case New:
		return "New"
	case Starting:
		return "Starting"
	case Running:
		return "Running"
	case Stopping:
		return "Stopping"
	case Terminated:
		return "Terminated"
	case Failed:
		return "Failed"
	default:
		return fmt.Sprintf("State(%d)", int(s))
	}
}

// StartingFunc prepares the service; ctx is the service's own context (ended by Stop).
// An error fails the service without calling StoppingFunc: a starting function
// undoes its own partial work.
type StartingFunc func(ctx context.Context) error

// RunningFunc is the service's main loop. It runs until ctx ends (Stop, or a failure
// of an owned goroutine) and returns nil then; an error fails the service, and a nil
// return before ctx ends terminates it. Nil means "wait until stopped".
type RunningFunc func(ctx context.Context) error

// StoppingFunc releases what the service holds after its context ended and its owned
// goroutines returned. failure is why it stops (nil on a requested stop); an error
// fails the service.
type StoppingFunc func(failure error) error

// Funcs are the parts of a service; any may be nil.
type Funcs struct {
	Starting StartingFunc
	Running  RunningFunc
	Stopping StoppingFunc
}

// errStopRequested is the cause of a context ended by Stop.
var errStopRequested = errors.New("stop requested")

// Service runs one service's lifecycle. Create it with NewService; the zero value is not
// usable. All methods are safe for concurrent use.
type Service struct {
	name  string
	funcs Funcs

	mu      sync.Mutex
	state   State
	failure error
	cancel  context.CancelCauseFunc // nil before Start
	ctx     context.Context         // the service's context; nil before Start
	closing bool                    // no more owned goroutines may start
	ran     bool                    // it reached Running
	owned   sync.WaitGroup

	// started closes once the service leaves Starting (or never starts); stopping
	// once a stop is asked for or a failure begins one; terminated once it is
	// Terminated or Failed.
	started      chan struct{}
	stopping     chan struct{}
	stoppingOnce sync.Once
	terminated   chan struct{}
}

// NewService returns a service named name (for errors and logs) in state New.
func NewService(name string, funcs Funcs) *Service {
	return &Service{
		name:       name,
		funcs:      funcs,
		started:    make(chan struct{}),
		stopping:   make(chan struct{}),
		terminated: make(chan struct{}),
	}
}

// Stopping is closed once the service is asked to stop (even before it started) or
// begins failing. Long-lived streams the service serves select on it, so that they
// end with the service rather than hold up a server's graceful drain.
func (s *Service) Stopping() <-chan struct{} { return s.stopping }

func (s *Service) markStopping() { s.stoppingOnce.Do(func() { close(s.stopping) }) }

// Name is the service's name.
func (s *Service) Name() string { return s.name }

// State is the current state.
func (s *Service) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// FailureCause is why the service failed, or nil while it has not.
func (s *Service) FailureCause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// Terminated is closed once the service is Terminated or Failed.
func (s *Service) Terminated() <-chan struct{} { return s.terminated }

// StartAsync begins starting the service and returns at once. ctx lends only its
// values to the service's context, not its deadline or cancellation. Starting twice,
// or after Stop, is an error.
func (s *Service) StartAsync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != New {
		return fmt.Errorf("start %s: service is %s, not New", s.name, s.state)
	}
	s.state = Starting
	s.ctx, s.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	go s.main()
	return nil
}

// Start starts the service and waits until it runs (or fails, or ctx ends).
func (s *Service) Start(ctx context.Context) error {
	if err := s.StartAsync(ctx); err != nil {
		return err
	}
	return s.AwaitRunning(ctx)
}

// StopAsync asks the service to stop and returns at once. A service that never
// started goes straight to Terminated. It is idempotent.
func (s *Service) StopAsync() {
	s.markStopping()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case New:
		s.state = Terminated
		s.closing = true
		close(s.started)
		close(s.terminated)
	case Starting, Running:
		s.cancel(errStopRequested)
	}
}

// Stop stops the service and waits until it is Terminated or Failed (or ctx ends).
// It returns the failure cause, if the service failed.
func (s *Service) Stop(ctx context.Context) error {
	s.StopAsync()
	return s.AwaitTerminated(ctx)
}

// AwaitRunning waits until the service reached Running (it may have stopped or
// failed since: Terminated tells). It returns an error when the service ends without
// having run — the failure cause, if it failed — or when ctx ends first.
func (s *Service) AwaitRunning(ctx context.Context) error {
	select {
	case <-s.started:
	case <-ctx.Done():
		return fmt.Errorf("%s not running: %w", s.name, context.Cause(ctx))
	}
	s.mu.Lock()
	ran := s.ran
	s.mu.Unlock()
	if ran {
		return nil
	}
	// It is on its way out: report how it ended.
	select {
	case <-s.terminated:
	case <-ctx.Done():
		return fmt.Errorf("%s not running: %w", s.name, context.Cause(ctx))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failure != nil {
		return fmt.Errorf("%s failed: %w", s.name, s.failure)
	}
	return fmt.Errorf("%s not running: it is %s", s.name, s.state)
}

// AwaitTerminated waits until the service is Terminated or Failed, and returns the
// failure cause, if any (or an error when ctx ends first).
func (s *Service) AwaitTerminated(ctx context.Context) error {
	select {
	case <-s.terminated:
		return s.FailureCause()
	case <-ctx.Done():
		return fmt.Errorf("%s not stopped: %w", s.name, context.Cause(ctx))
	}
}

// Go runs fn on a goroutine the service owns: fn gets the service's context, which
// ends on Stop, and the service does not leave Stopping before fn returns. An error
// from fn (other than after the context ended) fails the whole service. Call it from
// the starting or running function, or from their goroutines; after the service began
// stopping it returns false and does not run fn.
func (s *Service) Go(fn func(ctx context.Context) error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.ctx == nil {
		return false
	}
	ctx, cancel := s.ctx, s.cancel
	s.owned.Go(func() {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			cancel(err)
		}
	})
	return true
}

// Context is the service's context (ended by Stop or a failure), or nil before
// Start. Work that must end with the service, such as its long-lived streams,
// selects on its Done.
func (s *Service) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

func (s *Service) main() {
	ctx := s.Context()
	if s.funcs.Starting != nil {
		if err := s.funcs.Starting(ctx); err != nil {
			s.finish(fmt.Errorf("starting: %w", err), true)
			return
		}
	}
	// A Stop (or an owned goroutine's failure) during Starting leaves ctx ended:
	// go straight to Stopping.
	s.mu.Lock()
	if ctx.Err() == nil {
		s.state = Running
		s.ran = true
	} else {
		s.state = Stopping
	}
	close(s.started)
	s.mu.Unlock()

	var runErr error
	if ctx.Err() == nil {
		if s.funcs.Running != nil {
			runErr = s.funcs.Running(ctx)
		} else {
			<-ctx.Done()
		}
	}
	var failure error
	switch cause := context.Cause(ctx); {
	case cause != nil && !errors.Is(cause, errStopRequested):
		failure = cause // an owned goroutine failed
	case runErr != nil && (ctx.Err() == nil || !errors.Is(runErr, context.Canceled)):
		// A running function that returns the context's error on Stop did not fail.
		failure = fmt.Errorf("running: %w", runErr)
	}
	s.finish(failure, false)
}

// finish ends the service: its context ends, owned goroutines are awaited, the
// stopping function runs (unless starting failed), and the final state is set.
func (s *Service) finish(failure error, startFailed bool) {
	s.markStopping()
	s.mu.Lock()
	if startFailed {
		close(s.started) // straight from Starting to Failed
	} else {
		s.state = Stopping
	}
	s.closing = true
	s.mu.Unlock()
	s.cancel(errStopRequested) // no effect when already ended
	s.owned.Wait()
	if !startFailed && s.funcs.Stopping != nil {
		if err := s.funcs.Stopping(failure); err != nil && failure == nil {
			failure = fmt.Errorf("stopping: %w", err)
		}
	}
	s.mu.Lock()
	s.failure = failure
	s.state = Terminated
	if failure != nil {
		s.state = Failed
	}
	close(s.terminated)
	s.mu.Unlock()
}
