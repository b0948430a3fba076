package federation

import (
	"context"
	"maps"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"
)

// The upstreams of the store (the admin API's): each replica follows the store and
// reconciles what it runs with it. An upstream added is connected, served and
// registered like a configured one; one whose spec changed is stopped (deregistered)
// and started again with the new spec; one deleted is stopped, deregistered, and
// removed from the provider server, its health reported NOT_SERVING (grpc.health.v1
// has no removal).

// storedUpstreams are the store's upstreams this replica runs, by name.
type storedUpstreams struct {
	// wake asks the follower to read the store again; requests coalesce.
	wake chan struct{}

	mu      sync.Mutex
	running map[string]*storedRun
	read    bool // the store has been read once
	// ignored are the stored upstreams this replica does not run, and why (logged
	// once).
	ignored map[string]string
}

// storedRun is one running upstream of the store.
type storedRun struct {
	spec   Upstream
	cancel context.CancelFunc
	done   chan struct{}
}

func newStoredUpstreams() *storedUpstreams {
	return &storedUpstreams{wake: make(chan struct{}, 1), running: map[string]*storedRun{}}
}

// signal asks for a read of the store; it never blocks (the store's listener calls it).
func (st *storedUpstreams) signal() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// followStore reads the store now and after every change it signals, and reconciles,
// until ctx ends; then it stops every upstream of the store it runs.
func (s *Service) followStore(ctx context.Context) {
	st := s.stored
	var wg sync.WaitGroup
	defer wg.Wait()
	defer s.stopAllStored()
	wg.Go(func() { s.deps.Store.Follow(ctx, st.signal) })
	st.signal()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.wake:
		}
		list, err := s.deps.Store.List(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			// The store signals again (a PostgreSQL store every resync interval):
			// the upstreams running now keep running meanwhile.
			if !failing {
				s.logger.WarnContext(ctx, "cannot read the stored upstreams; keeping those running", "error", err)
			}
			failing = true
			continue
		case failing:
			s.logger.InfoContext(ctx, "stored upstreams read again")
			failing = false
		}
		s.reconcile(ctx, list)
	}
}

// firstReconcile is the first reconcile of a replica: the upstreams it starts hold
// readiness up until their first connection ends, as configured ones do, so that a
// replica that starts later is ready with the stored upstreams in its catalogue.
func (s *Service) firstReconcile(names []string) {
	s.first.add(names...)
	s.first.done(storeReading, false)
}

// reconcile makes the running upstreams of the store those of list.
func (s *Service) reconcile(ctx context.Context, list []StoredUpstream) {
	st := s.stored
	st.mu.Lock()
	defer st.mu.Unlock()
	want := make(map[string]Upstream, len(list))
	ignored := map[string]string{}
	for _, su := range list {
		switch {
		case s.configuredName(su.Name) != "":
			// The configuration file gained this name after the upstream was put: the
			// configured one is served, the stored one is not.
			ignored[su.Name] = "stored upstream ignored: the configuration file defines the same name"
		case len(su.Command) > 0 && !s.cfg.Admin.AllowCommands:
			// Another replica's configuration may allow commands; this one's does not.
			ignored[su.Name] = "stored stdio upstream not started: federation.admin.allow_commands is off"
		default:
			want[su.Name] = su.Upstream
		}
	}
	for name, why := range ignored {
		if st.ignored[name] != why { // once, not at every resync
			s.logger.WarnContext(ctx, why, "upstream", name)
		}
	}
	st.ignored = ignored
	if !st.read {
		st.read = true
		s.firstReconcile(slices.Collect(maps.Keys(want)))
	}
	for name, r := range st.running {
		if spec, ok := want[name]; ok && sameSpec(spec, r.spec) {
			continue
		}
		s.stopStored(ctx, r)
		delete(st.running, name)
	}
	for name, spec := range want {
		if _, ok := st.running[name]; ok {
			continue
		}
		if r := s.startStored(ctx, spec); r != nil {
			st.running[name] = r
		}
	}
}

// sameSpec compares two specs as the API states them.
func sameSpec(a, b Upstream) bool { return proto.Equal(upstreamProto(a), upstreamProto(b)) }

// startStored serves spec's upstream and keeps it connected and registered until
// stopStored (or the service's end); nil when the service is stopping.
func (s *Service) startStored(ctx context.Context, spec Upstream) *storedRun {
	u := newUpstream(spec, s.cfg, s.logger, s.breakers)
	runCtx, cancel := context.WithCancel(ctx)
	u.stopping = runCtx.Done()
	r := &storedRun{spec: spec, cancel: cancel, done: make(chan struct{})}
	s.deps.Providers.Set(spec.Name, u.provider())
	started := s.Go(func(context.Context) error {
		defer close(r.done)
		u.run(runCtx, s.firstAttemptAndHealth(spec.Name), s.keepRegistered(u))
		return nil
	})
	if !started {
		cancel()
		s.deps.Providers.Remove(spec.Name)
		return nil
	}
	s.logger.InfoContext(ctx, "stored upstream started", "upstream", spec.Name)
	return r
}

// stopStored ends r's connection and registration (the provider is deregistered
// before it leaves the provider server), and forgets its health.
func (s *Service) stopStored(ctx context.Context, r *storedRun) {
	r.cancel()
	<-r.done
	s.deps.Providers.Remove(r.spec.Name)
	s.first.forget(r.spec.Name)
	s.healthOf(r.spec.Name)(false)
	s.logger.InfoContext(ctx, "stored upstream stopped", "upstream", r.spec.Name)
}

// stopAllStored stops every running upstream of the store (the service is stopping).
func (s *Service) stopAllStored() {
	st := s.stored
	st.mu.Lock()
	defer st.mu.Unlock()
	for name, r := range st.running {
		s.stopStored(context.Background(), r)
		delete(st.running, name)
	}
}

// configuredName is where the configuration file defines name ("federation.upstreams"
// or "federation.grpc"), or "".
func (s *Service) configuredName(name string) string {
	for _, u := range s.cfg.Upstreams {
		if u.Name == name {
			return "federation.upstreams"
		}
	}
	for _, g := range s.cfg.GRPC {
		if g.Name == name {
			return "federation.grpc"
		}
	}
	return ""
}
