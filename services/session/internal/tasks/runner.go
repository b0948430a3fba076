package tasks

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Settings are the task knobs, taken from the service config.
type Settings struct {
	// Timeout bounds a task's provider call.
	Timeout time.Duration
	// DefaultTTL is how long a record is kept after creation when the client asks for
	// nothing; MaxTTL caps what it may ask for.
	DefaultTTL time.Duration
	MaxTTL     time.Duration
	// PollInterval is the pollInterval suggested to clients.
	PollInterval time.Duration
	// MaxPerSession bounds the unfinished tasks of a stateful session (checked by the
	// caller, in the store); MaxRunning the tasks this replica runs at once (0: no bound).
	MaxPerSession int
	MaxRunning    int
	// MaxPerPrincipal bounds the unfinished tasks of one principal, in every session and
	// stateless (checked by the caller, in the store; 0: no bound).
	MaxPerPrincipal int
}

// Notifier sends a server-initiated notification to a stateful session's GET stream
// (task status changes, a task's progress).
type Notifier func(ctx context.Context, sessionID, method string, params []byte)

// ErrStopping refuses a new task while the runner stops.
var ErrStopping = errors.New("tasks: the runner is stopping")

// ErrBusy refuses a new task while the runner runs Settings.MaxRunning.
var ErrBusy = errors.New("tasks: the runner runs its maximum of tasks")

// Runner tracks the tasks running on this replica and the requests waiting for a task
// to end. It holds no goroutine of its own: one per running task (the caller's), and
// one per resync while it checks for cancellations.
type Runner struct {
	store    Store
	settings Settings
	notify   Notifier // nil: no notifications
	base     context.Context
	stop     context.CancelFunc

	mu        sync.Mutex
	stopped   bool
	wg        sync.WaitGroup
	running   map[string]context.CancelFunc
	waiters   map[string]map[chan struct{}]struct{}
	resyncing bool
	starting  int             // Begins between the bound check and the record
	onChange  func(id string) // nil: nobody follows changes
}

// NewRunner returns a Runner keeping records in st. notify may be nil.
func NewRunner(st Store, s Settings, notify Notifier) *Runner {
	base, stop := context.WithCancel(context.Background())
	return &Runner{store: st, settings: s, notify: notify, base: base, stop: stop,
		running: map[string]context.CancelFunc{}, waiters: map[string]map[chan struct{}]struct{}{}}
}

// Store is where the records live.
func (r *Runner) Store() Store { return r.store }

// Settings are the runner's knobs.
func (r *Runner) Settings() Settings { return r.settings }

// Notify sends a notification to a stateful session, if the runner has a notifier.
func (r *Runner) Notify(ctx context.Context, sessionID, method string, params []byte) {
	if r.notify != nil && sessionID != "" {
		r.notify(ctx, sessionID, method, params)
	}
}

// Begin records task and counts it as running here: the returned context (bounded by
// Settings.Timeout, with timeoutCause as its cause) is the run's, and end must be
// called when the run is over. A task counts as running only once its record exists:
// a resync takes a running task without a record for one that expired, and would
// cancel it.
func (r *Runner) Begin(ctx context.Context, task Task, timeoutCause error) (run context.Context, end func(), err error) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil, nil, ErrStopping
	}
	// Counted with the runs about to begin, so that concurrent Begins keep the bound.
	if r.settings.MaxRunning > 0 && r.starting+len(r.running) >= r.settings.MaxRunning {
		r.mu.Unlock()
		return nil, nil, ErrBusy
	}
	r.starting++
	r.wg.Add(1)
	r.mu.Unlock()
	run, cancel := context.WithTimeoutCause(r.base, r.settings.Timeout, timeoutCause)
	if err := r.store.Create(ctx, task); err != nil {
		cancel()
		r.mu.Lock()
		r.starting--
		r.mu.Unlock()
		r.wg.Done()
		return nil, nil, err
	}
	r.mu.Lock()
	r.starting--
	r.running[task.ID] = cancel
	r.mu.Unlock()
	return run, func() {
		r.mu.Lock()
		delete(r.running, task.ID)
		r.mu.Unlock()
		cancel()
		r.wg.Done()
	}, nil
}

// Stop cancels the tasks running here and waits for them (bounded by ctx). Their
// records are marked failed by their runs, so clients do not wait forever.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.stop()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Notified handles a payload of NotifyChannel: a task of another replica changed. A
// cancelled task running here stops; requests waiting for it look again. It never
// blocks.
func (r *Runner) Notified(payload string) {
	kind, id, ok := DecodePayload(payload)
	if !ok {
		return
	}
	if kind == KindCancelled {
		r.CancelLocal(id)
	}
	r.Wake(id)
}

// Resync catches up on lost notifications: every waiting request looks again, and
// the running tasks are checked for a cancellation (in the background, once at a
// time). It never blocks.
func (r *Runner) Resync() {
	r.mu.Lock()
	var ids []string
	for id := range r.running {
		ids = append(ids, id)
	}
	for id := range r.waiters {
		r.wakeLocked(id)
	}
	check := len(ids) > 0 && !r.resyncing && !r.stopped
	if check {
		r.resyncing = true
		r.wg.Add(1)
	}
	r.mu.Unlock()
	if !check {
		return
	}
	go func() {
		defer r.wg.Done()
		defer func() { r.mu.Lock(); r.resyncing = false; r.mu.Unlock() }()
		ctx, cancel := context.WithTimeout(r.base, 10*time.Second)
		defer cancel()
		cancelled, err := r.store.CancelledAmong(ctx, ids)
		if err != nil {
			return // the next resync tries again
		}
		for _, id := range cancelled {
			r.CancelLocal(id)
		}
	}()
}

// CancelLocal stops the run of task id if it runs here.
func (r *Runner) CancelLocal(id string) {
	r.mu.Lock()
	cancel, ok := r.running[id]
	r.mu.Unlock()
	if ok {
		cancel()
	}
}

// Watch registers a wait for a change of task id; the channel is signalled (never
// closed) on a change. release must be called.
func (r *Runner) Watch(id string) (changed <-chan struct{}, release func()) {
	c := make(chan struct{}, 1)
	r.mu.Lock()
	if r.waiters[id] == nil {
		r.waiters[id] = map[chan struct{}]struct{}{}
	}
	r.waiters[id][c] = struct{}{}
	r.mu.Unlock()
	return c, func() {
		r.mu.Lock()
		delete(r.waiters[id], c)
		if len(r.waiters[id]) == 0 {
			delete(r.waiters, id)
		}
		r.mu.Unlock()
	}
}

// OnChange sets f to hear of every change of a task that Wake reports (made here, or
// heard from another replica through Notified): subscriptions/listen streams follow
// tasks with it. Call it before the runner serves; f must not block.
func (r *Runner) OnChange(f func(id string)) { r.onChange = f }

// Wake signals the requests waiting for task id, and OnChange's follower: task id
// changed.
func (r *Runner) Wake(id string) {
	r.mu.Lock()
	r.wakeLocked(id)
	r.mu.Unlock()
	if r.onChange != nil {
		r.onChange(id)
	}
}

func (r *Runner) wakeLocked(id string) {
	for c := range r.waiters[id] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
