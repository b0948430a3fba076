package lifecycle

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBoom = errors.New("boom")

// bounded is a context for waits that must not hang a broken test.
func bounded(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name string
		// funcs builds the service's functions; stopped is closed when the stopping
		// function runs.
		funcs func(stopped *atomic.Bool) Funcs
		// stop asks for a stop once the service runs.
		stop         bool
		wantStartErr string // "" when Start must succeed
		wantState    State
		wantFailure  string // "" when FailureCause must be nil
		wantStopping bool
	}{
		{
			name:         "runs until stopped",
			funcs:        func(stopped *atomic.Bool) Funcs { return Funcs{Stopping: stoppingFlag(stopped, nil)} },
			stop:         true,
			wantState:    Terminated,
			wantStopping: true,
		},
		{
			name: "starting fails: no running, no stopping",
			funcs: func(stopped *atomic.Bool) Funcs {
				return Funcs{
					Starting: func(context.Context) error { return errBoom },
					Running:  func(context.Context) error { panic("running after a failed start") },
					Stopping: stoppingFlag(stopped, nil),
				}
			},
			wantStartErr: "starting: boom",
			wantState:    Failed,
			wantFailure:  "starting: boom",
		},
		{
			name: "running fails after start",
			funcs: func(stopped *atomic.Bool) Funcs {
				return Funcs{
					Running:  func(context.Context) error { return errBoom },
					Stopping: stoppingFlag(stopped, nil),
				}
			},
			wantState:    Failed,
			wantFailure:  "running: boom",
			wantStopping: true,
		},
		{
			name: "running ends by itself: terminated",
			funcs: func(stopped *atomic.Bool) Funcs {
				return Funcs{Running: func(context.Context) error { return nil }, Stopping: stoppingFlag(stopped, nil)}
			},
			wantState:    Terminated,
			wantStopping: true,
		},
		{
			name: "running returns the context's error on stop: not a failure",
			funcs: func(stopped *atomic.Bool) Funcs {
				return Funcs{
					Running:  func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
					Stopping: stoppingFlag(stopped, nil),
				}
			},
			stop:         true,
			wantState:    Terminated,
			wantStopping: true,
		},
		{
			name: "an owned goroutine fails the service",
			funcs: func(stopped *atomic.Bool) Funcs {
				return Funcs{
					Running: func(ctx context.Context) error {
						serviceOf(ctx).Go(func(context.Context) error { return errBoom })
						<-ctx.Done()
						return nil
					},
					Stopping: stoppingFlag(stopped, nil),
				}
			},
			wantState:    Failed,
			wantFailure:  "boom",
			wantStopping: true,
		},
		{
			name: "stopping fails",
			funcs: func(stopped *atomic.Bool) Funcs {
				return Funcs{Stopping: stoppingFlag(stopped, errBoom)}
			},
			stop:         true,
			wantState:    Failed,
			wantFailure:  "stopping: boom",
			wantStopping: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := bounded(t)
			var stopped atomic.Bool
			funcs := tt.funcs(&stopped)
			s := NewService("svc", funcs)
			if funcs.Running != nil {
				// Let running functions reach their service through the context.
				inner := funcs.Running
				s.funcs.Running = func(c context.Context) error { return inner(context.WithValue(c, serviceKey{}, s)) }
			}
			err := s.Start(ctx)
			switch {
			case tt.wantStartErr == "" && err != nil:
				t.Fatalf("Start: %v", err)
			case tt.wantStartErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantStartErr)):
				t.Fatalf("Start = %v, want an error with %q", err, tt.wantStartErr)
			}
			if tt.stop {
				s.StopAsync()
			}
			failure := s.AwaitTerminated(ctx)
			select {
			case <-s.Stopping():
			default:
				t.Error("Stopping not closed after the service ended")
			}
			if got := s.State(); got != tt.wantState {
				t.Errorf("state %s, want %s", got, tt.wantState)
			}
			if tt.wantFailure == "" && failure != nil || tt.wantFailure != "" && (failure == nil || failure.Error() != tt.wantFailure) {
				t.Errorf("failure %v, want %q", failure, tt.wantFailure)
			}
			if !errors.Is(failure, s.FailureCause()) {
				t.Errorf("AwaitTerminated %v and FailureCause %v differ", failure, s.FailureCause())
			}
			if stopped.Load() != tt.wantStopping {
				t.Errorf("stopping ran: %v, want %v", stopped.Load(), tt.wantStopping)
			}
		})
	}
}

type serviceKey struct{}

func serviceOf(ctx context.Context) *Service { return ctx.Value(serviceKey{}).(*Service) }

func stoppingFlag(flag *atomic.Bool, err error) StoppingFunc {
	return func(error) error { flag.Store(true); return err }
}

// Owned goroutines end before the service leaves Stopping, and none starts after.
func TestOwnedGoroutinesEndBeforeTerminated(t *testing.T) {
	ctx := bounded(t)
	var ended atomic.Int32
	var s *Service
	s = NewService("owner", Funcs{
		Starting: func(context.Context) error {
			for range 3 {
				s.Go(func(ctx context.Context) error {
					<-ctx.Done()
					time.Sleep(5 * time.Millisecond) // cleanup that takes a moment
					ended.Add(1)
					return nil
				})
			}
			return nil
		},
		Stopping: func(error) error {
			if n := ended.Load(); n != 3 {
				t.Errorf("stopping ran with %d of 3 owned goroutines ended", n)
			}
			return nil
		},
	})
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Go(func(context.Context) error { t.Error("ran after stop"); return nil }) {
		t.Error("Go accepted a goroutine after the service terminated")
	}
}

// The context that starts a service lends its values, not its end: loops outlive a
// start-up deadline.
func TestServiceOutlivesStartContext(t *testing.T) {
	type key struct{}
	startCtx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	s := NewService("svc", Funcs{})
	if err := s.Start(startCtx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if got := s.Context().Value(key{}); got != "v" {
		t.Errorf("service context lost the start context's value: %v", got)
	}
	if s.Context().Err() != nil || s.State() != Running {
		t.Fatalf("service ended with its start context: %s", s.State())
	}
	if err := s.Stop(bounded(t)); err != nil {
		t.Fatal(err)
	}
}

func TestTransitionsRefused(t *testing.T) {
	ctx := bounded(t)
	tests := []struct {
		name    string
		prepare func(*Service)
	}{
		{"start twice", func(s *Service) { _ = s.Start(ctx) }},
		{"start after stop", func(s *Service) { _ = s.Stop(ctx) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewService("svc", Funcs{})
			tt.prepare(s)
			if err := s.Start(ctx); err == nil {
				t.Fatal("Start succeeded")
			}
			_ = s.Stop(ctx)
		})
	}
}

// A service stopped before it started is Terminated at once, and AwaitRunning says
// it does not run.
func TestStopBeforeStart(t *testing.T) {
	ctx := bounded(t)
	s := NewService("svc", Funcs{Starting: func(context.Context) error { t.Error("started"); return nil }})
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if s.State() != Terminated {
		t.Fatalf("state %s", s.State())
	}
	select {
	case <-s.Stopping():
	default:
		t.Fatal("Stopping not closed by a Stop before Start")
	}
	if err := s.AwaitRunning(ctx); err == nil || !strings.Contains(err.Error(), "Terminated") {
		t.Fatalf("AwaitRunning = %v", err)
	}
}

// A stop during Starting skips Running and still calls the stopping function.
func TestStopWhileStarting(t *testing.T) {
	ctx := bounded(t)
	release := make(chan struct{})
	ranRunning, ranStopping := false, false
	s := NewService("svc", Funcs{
		Starting: func(context.Context) error { <-release; return nil },
		Running:  func(context.Context) error { ranRunning = true; return nil },
		Stopping: func(error) error { ranStopping = true; return nil },
	})
	if err := s.StartAsync(ctx); err != nil {
		t.Fatal(err)
	}
	s.StopAsync()
	close(release)
	if err := s.AwaitTerminated(ctx); err != nil {
		t.Fatal(err)
	}
	if ranRunning || !ranStopping || s.State() != Terminated {
		t.Fatalf("running %v, stopping %v, state %s", ranRunning, ranStopping, s.State())
	}
	if err := s.AwaitRunning(ctx); err == nil {
		t.Fatal("AwaitRunning succeeded for a service that never ran")
	}
}

func TestAwaitEndsWithContext(t *testing.T) {
	s := NewService("svc", Funcs{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AwaitRunning(ctx); err == nil {
		t.Error("AwaitRunning on an ended context succeeded")
	}
	if err := s.AwaitTerminated(ctx); err == nil {
		t.Error("AwaitTerminated on an ended context succeeded")
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{New: "New", Starting: "Starting", Running: "Running", Stopping: "Stopping", Terminated: "Terminated", Failed: "Failed", State(9): "State(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", int(s), got, want)
		}
	}
}
