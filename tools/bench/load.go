package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// loadSpec describes one measured run against one endpoint.
type loadSpec struct {
	Endpoint    string // the MCP endpoint URL
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	// Stateful opens a session per worker first; the ceiling has no sessions.
	Stateful bool
	// Stateless calls the 2026-07-28 way (no session; version and capabilities in
	// _meta, method and tool in headers).
	Stateless bool
	// ServerPIDs are the processes whose CPU time is charged to the server.
	ServerPIDs []int
	// DatabasePID, when not 0, is a PostgreSQL postmaster: its CPU time and its
	// backends' are charged to the database.
	DatabasePID int
	// Authorization, when set, is the Authorization header of every request.
	Authorization string
	// Transport, when set, is used and left open (its connections outlive the run);
	// otherwise the run makes its own and closes its connections at the end.
	Transport *http.Transport
}

// loadResult is what one run measured inside its window (after the warmup).
type loadResult struct {
	OK         uint64 // successful tools/call responses
	Errors     uint64
	InitErrors int           // workers that could not open their session
	Window     time.Duration // the measured window, in which answers are counted
	// CPUWindow is the time between the two CPU snapshots: nominally Window, longer or
	// shifted when the snapshot goroutine was scheduled late on a busy machine. CPU
	// figures are rates over CPUWindow.
	CPUWindow time.Duration
	Latency   *histogram
	ServerCPU time.Duration
	// DatabaseCPU is the postmaster's and its backends' CPU time (0 without DatabasePID).
	DatabaseCPU time.Duration
	// GeneratorCPU is this process's CPU time over the window.
	GeneratorCPU time.Duration
	MachineBusy  float64
	// MachineCPU is the CPU capacity of the machine over the window (all cores), so
	// the shares of server, generator and other processes can be shown.
	MachineCPU time.Duration
	// FirstErrors holds a few distinct error messages for the reader.
	FirstErrors []string
}

// requestGrace bounds how long a request that is in flight at the end of the run may
// still take; no request outlives the run by more.
const requestGrace = 10 * time.Second

// sessionSetupTimeout bounds opening every worker's session before the clock starts.
const sessionSetupTimeout = 60 * time.Second

// worker runs one client's request loop and keeps its own counts, so the hot path
// takes no lock; the counts are merged after every worker has stopped.
type worker struct {
	client   *client
	hist     histogram
	ok       uint64
	errors   uint64
	firstErr error
}

// run calls echo back to back until until; only answers that arrive inside
// [measureFrom, until] are counted.
func (w *worker) run(ctx context.Context, measureFrom, until time.Time) {
	for {
		start := time.Now()
		if !start.Before(until) || ctx.Err() != nil {
			return
		}
		err := w.client.callEcho(ctx)
		done := time.Now()
		counted := !done.Before(measureFrom) && !done.After(until)
		switch {
		case err == nil && counted:
			w.ok++
			w.hist.record(done.Sub(start))
		case err != nil && counted:
			w.errors++
			if w.firstErr == nil {
				w.firstErr = err
			}
		}
		if err != nil && !isHTTPError(err) {
			// The server is unreachable: don't spin.
			pause := done.Add(10 * time.Millisecond)
			if pause.After(until) {
				pause = until
			}
			sleepUntil(ctx, pause)
		}
	}
}

// isHTTPError reports whether the server answered (with a bad status or body), as
// opposed to a transport failure.
func isHTTPError(err error) bool {
	var se statusError
	return errors.As(err, &se) || errors.Is(err, errNoResult)
}

// sleepUntil waits until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// runLoad opens spec.Concurrency sessions, then calls echo from every one of them with
// one request in flight each, for spec.Warmup (not counted) plus spec.Duration.
func runLoad(ctx context.Context, spec loadSpec) (loadResult, error) {
	if spec.Concurrency < 1 || spec.Duration <= 0 {
		return loadResult{}, fmt.Errorf("load: concurrency %d and duration %s must be positive", spec.Concurrency, spec.Duration)
	}
	endpoint, err := url.Parse(spec.Endpoint)
	if err != nil {
		return loadResult{}, fmt.Errorf("load: endpoint: %w", err)
	}
	transport := spec.Transport
	if transport == nil {
		transport = newTransport(spec.Concurrency)
		defer transport.CloseIdleConnections()
	}

	workers := make([]*worker, spec.Concurrency)
	for i := range workers {
		workers[i] = &worker{client: newClient(transport, endpoint)}
		workers[i].client.authorize(spec.Authorization)
		if spec.Stateless {
			workers[i].client.stateless()
		}
	}
	res := loadResult{Latency: &histogram{}}
	if spec.Stateful {
		var initErrs []error
		workers, initErrs = openSessions(ctx, workers)
		res.InitErrors = len(initErrs)
		res.FirstErrors = appendDistinct(res.FirstErrors, initErrs...)
		if len(workers) == 0 {
			return res, fmt.Errorf("load: no session could be opened: %w", errors.Join(initErrs[:min(len(initErrs), 3)]...))
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	measureFrom := time.Now().Add(spec.Warmup)
	until := measureFrom.Add(spec.Duration)
	runCtx, cancel := context.WithDeadline(ctx, until.Add(requestGrace))
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(runCtx, measureFrom, until) })
	}

	sleepUntil(ctx, measureFrom)
	before, snapErr := takeSnapshot(spec.ServerPIDs, spec.DatabasePID)
	sleepUntil(ctx, until)
	after, snapErr2 := takeSnapshot(spec.ServerPIDs, spec.DatabasePID)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := errors.Join(snapErr, snapErr2); err != nil {
		return res, fmt.Errorf("load: %w", err)
	}

	res.Window = until.Sub(measureFrom)
	res.CPUWindow = after.at.Sub(before.at)
	res.ServerCPU = after.server - before.server
	res.DatabaseCPU = after.database - before.database
	res.GeneratorCPU = after.generator - before.generator
	res.MachineBusy = busyFraction(before.machine, after.machine)
	res.MachineCPU = time.Duration(after.machine.total-before.machine.total) * clockTick
	for _, w := range workers {
		res.OK += w.ok
		res.Errors += w.errors
		res.Latency.merge(&w.hist)
		if w.firstErr != nil {
			res.FirstErrors = appendDistinct(res.FirstErrors, w.firstErr)
		}
	}
	return res, nil
}

// openSessions initializes every worker's session concurrently and returns the workers
// that succeeded and the errors of the others.
func openSessions(ctx context.Context, workers []*worker) ([]*worker, []error) {
	ctx, cancel := context.WithTimeout(ctx, sessionSetupTimeout)
	defer cancel()
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() { errs[i] = w.client.initialize(ctx) })
	}
	wg.Wait()
	ready := workers[:0:0]
	var failed []error
	for i, w := range workers {
		if errs[i] != nil {
			failed = append(failed, errs[i])
			continue
		}
		ready = append(ready, w)
	}
	return ready, failed
}

// appendDistinct keeps up to three distinct error messages.
func appendDistinct(list []string, errs ...error) []string {
	for _, err := range errs {
		if len(list) >= 3 {
			return list
		}
		msg := err.Error()
		seen := false
		for _, m := range list {
			seen = seen || m == msg
		}
		if !seen {
			list = append(list, msg)
		}
	}
	return list
}

// snapshot is the CPU counters read at one edge of the measured window.
type snapshot struct {
	at        time.Time
	server    time.Duration
	database  time.Duration
	generator time.Duration
	machine   machineCPU
}

func takeSnapshot(serverPIDs []int, databasePID int) (snapshot, error) {
	s := snapshot{at: time.Now()}
	var errs []error
	for _, pid := range serverPIDs {
		d, err := cpuTime(pid)
		errs = append(errs, err)
		s.server += d
	}
	var err error
	if databasePID != 0 {
		s.database, err = treeCPU(databasePID)
		errs = append(errs, err)
	}
	s.generator, err = cpuTime(0)
	errs = append(errs, err)
	s.machine, err = readMachineCPU()
	errs = append(errs, err)
	return s, errors.Join(errs...)
}
