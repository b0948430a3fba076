package provider

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

// testRegistry is a small real RegistryService: it grants 1 s leases and can be told to
// fail registrations or to forget a lease.
type testRegistry struct {
	registryv1.UnimplementedRegistryServiceServer

	mu            sync.Mutex
	failRegisters int    // fail this many registrations with Unavailable first
	expireOnBeat  int    // answer NotFound to this heartbeat number (1-based); 0 never
	leases        int    // leases granted so far
	current       string // the live lease id
	beats         int
	deregistered  []string
	lastAddress   string // of the last registration
	addr          string // where serveRegistry serves it

	events chan string // "register lease-N", "heartbeat lease-N", "deregister lease-N", "unavailable"
}

func newTestRegistry() *testRegistry { return &testRegistry{events: make(chan string, 256)} }

func (r *testRegistry) event(e string) {
	select {
	case r.events <- e:
	default: // the test stopped listening
	}
}

func (r *testRegistry) RegisterProvider(_ context.Context, req *registryv1.RegisterProviderRequest) (*registryv1.RegisterProviderResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.GetName() == "" || req.GetAddress() == "" || req.GetLeaseSeconds() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "bad registration")
	}
	if r.failRegisters > 0 {
		r.failRegisters--
		r.event("unavailable")
		return nil, status.Error(codes.Unavailable, "registry warming up")
	}
	r.leases++
	r.lastAddress = req.GetAddress()
	r.current = fmt.Sprintf("lease-%d", r.leases)
	r.event("register " + r.current)
	return &registryv1.RegisterProviderResponse{LeaseId: r.current, LeaseSeconds: 1}, nil
}

func (r *testRegistry) Heartbeat(_ context.Context, req *registryv1.HeartbeatRequest) (*registryv1.HeartbeatResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.beats++
	if r.beats == r.expireOnBeat {
		r.current = ""
	}
	if req.GetLeaseId() != r.current {
		r.event("expired " + req.GetLeaseId())
		return nil, status.Error(codes.NotFound, "lease expired")
	}
	r.event("heartbeat " + req.GetLeaseId())
	return &registryv1.HeartbeatResponse{LeaseSeconds: 1}, nil
}

func (r *testRegistry) DeregisterProvider(_ context.Context, req *registryv1.DeregisterProviderRequest) (*registryv1.DeregisterProviderResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deregistered = append(r.deregistered, req.GetLeaseId())
	r.event("deregister " + req.GetLeaseId())
	return &registryv1.DeregisterProviderResponse{}, nil
}

func (r *testRegistry) RefreshProvider(_ context.Context, req *registryv1.RefreshProviderRequest) (*registryv1.RefreshProviderResponse, error) {
	e := "refresh " + req.GetName()
	for _, l := range req.GetAnnounce() {
		e += " " + l.String()
	}
	r.event(e)
	return &registryv1.RefreshProviderResponse{}, nil
}

// serveRegistry serves reg over loopback gRPC and returns a client.
func serveRegistry(t *testing.T, reg *testRegistry) registryv1.RegistryServiceClient {
	t.Helper()
	srv := grpc.NewServer()
	registryv1.RegisterRegistryServiceServer(srv, reg)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg.addr = lis.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.GracefulStop()
		<-served
	})
	return registryv1.NewRegistryServiceClient(conn)
}

// expectEvents waits for the given events in order, skipping others.
func expectEvents(t *testing.T, reg *testRegistry, want ...string) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for _, w := range want {
		for found := false; !found; {
			select {
			case e := <-reg.events:
				found = e == w
			case <-timeout.C:
				t.Fatalf("timed out waiting for %q", w)
			}
		}
	}
}

// countingHandler counts warn records, to check the loop does not log every attempt.
type countingHandler struct{ warns atomic.Int32 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		h.warns.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// startLoop runs KeepRegistered until the returned stop function is called, which
// returns KeepRegistered's error.
func startLoop(t *testing.T, client registryv1.RegistryServiceClient, logger *slog.Logger) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- KeepRegistered(ctx, client, "everything", "127.0.0.1:7001", time.Second, logger) }()
	stopped := false
	stop = func() error {
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	return stop
}

func TestKeepRegistered(t *testing.T) {
	tests := []struct {
		name          string
		failRegisters int
		expireOnBeat  int
		// the events to see, in order, before stopping
		want           []string
		wantDeregister string
		wantWarns      int32
	}{
		{
			name:           "registers, heartbeats and deregisters",
			want:           []string{"register lease-1", "heartbeat lease-1", "heartbeat lease-1"},
			wantDeregister: "lease-1",
		},
		{
			name:           "registers again after NotFound",
			expireOnBeat:   2,
			want:           []string{"register lease-1", "heartbeat lease-1", "expired lease-1", "register lease-2", "heartbeat lease-2"},
			wantDeregister: "lease-2",
		},
		{
			name:           "retries while the registry is unavailable",
			failRegisters:  4,
			want:           []string{"unavailable", "unavailable", "unavailable", "unavailable", "register lease-1", "heartbeat lease-1"},
			wantDeregister: "lease-1",
			wantWarns:      3, // attempts 1, 2 and 4 of the streak
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newTestRegistry()
			reg.failRegisters, reg.expireOnBeat = tt.failRegisters, tt.expireOnBeat
			client := serveRegistry(t, reg)
			counter := &countingHandler{}
			stop := startLoop(t, client, slog.New(counter))
			expectEvents(t, reg, tt.want...)
			if err := stop(); err != nil {
				t.Fatalf("KeepRegistered returned %v", err)
			}
			reg.mu.Lock()
			defer reg.mu.Unlock()
			if len(reg.deregistered) != 1 || reg.deregistered[0] != tt.wantDeregister {
				t.Errorf("deregistered %v, want [%s]", reg.deregistered, tt.wantDeregister)
			}
			if got := counter.warns.Load(); got != tt.wantWarns {
				t.Errorf("%d warnings, want %d", got, tt.wantWarns)
			}
		})
	}
}

func TestKeepRegisteredUnreachableRegistry(t *testing.T) {
	// Nothing listens on this address: every call fails, and cancelling still returns nil
	// without a deregistration attempt.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	counter := &countingHandler{}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := KeepRegistered(ctx, registryv1.NewRegistryServiceClient(conn), "everything", "x:1", time.Second, slog.New(counter)); err != nil {
		t.Fatalf("want nil after ctx ends, got %v", err)
	}
	if counter.warns.Load() == 0 {
		t.Error("want a warning about the unreachable registry")
	}
}

func TestKeepRegisteredRejectsBadArguments(t *testing.T) {
	client := registryv1.NewRegistryServiceClient(nil)
	for _, tc := range []struct {
		client        registryv1.RegistryServiceClient
		name, address string
		lease         time.Duration
	}{
		{nil, "n", "a", time.Second},
		{client, "", "a", time.Second},
		{client, "n", "", time.Second},
		{client, "n", "a", time.Millisecond},
	} {
		if err := KeepRegistered(context.Background(), tc.client, tc.name, tc.address, tc.lease, nil); err == nil {
			t.Errorf("accepted %+v", tc)
		}
	}
}

// TestKeepRegisteredRefreshesChangedCatalogue: a catalogue change while registered asks
// the registry to describe the provider again, between heartbeats.
func TestKeepRegisteredRefreshesChangedCatalogue(t *testing.T) {
	reg := newTestRegistry()
	client := serveRegistry(t, reg)
	changed := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- KeepRegisteredWatching(ctx, client, "everything", "127.0.0.1:7001", time.Minute, discardLogger(), changed)
	}()
	expectEvents(t, reg, "register lease-1")
	changed <- struct{}{}
	expectEvents(t, reg, "refresh everything")
	changed <- struct{}{}
	expectEvents(t, reg, "refresh everything")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	expectEvents(t, reg, "deregister lease-1")
}

// TestServeRegisters: Serve with a registry registers the listener's address, renews
// the lease and deregisters when it stops.
func TestServeRegisters(t *testing.T) {
	reg := newTestRegistry()
	serveRegistry(t, reg)
	srv, err := New(Options{Name: "served"})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, ServeOptions{Registry: reg.addr, Lease: time.Second}) }()
	expectEvents(t, reg, "register lease-1", "heartbeat lease-1")
	reg.mu.Lock()
	advertised := reg.lastAddress
	reg.mu.Unlock()
	if advertised != lis.Addr().String() {
		t.Errorf("advertised %q, want the listener's %q", advertised, lis.Addr())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	expectEvents(t, reg, "deregister lease-1")
}

func TestServeRejectsShortLease(t *testing.T) {
	srv, err := New(Options{Name: "short"})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lis.Close() }()
	if err := srv.Serve(t.Context(), lis, ServeOptions{Registry: "127.0.0.1:1", Lease: 500 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "at least 1s") {
		t.Errorf("Serve with a 500ms lease: %v", err)
	}
}

// TestKeepRegisteredAnnouncesLists: each refresh announces the lists signalled since
// the previous one, and only those.
func TestKeepRegisteredAnnouncesLists(t *testing.T) {
	reg := newTestRegistry()
	client := serveRegistry(t, reg)
	changed := make(chan struct{}, 1)
	pending := make(chan []registryv1.CatalogueList, 1)
	announced := func() []registryv1.CatalogueList {
		select {
		case l := <-pending:
			return l
		default:
			return nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- KeepRegisteredAnnouncing(ctx, client, "upstream", "127.0.0.1:7001", time.Minute, discardLogger(), changed, announced)
	}()
	expectEvents(t, reg, "register lease-1")
	pending <- []registryv1.CatalogueList{registryv1.CatalogueList_CATALOGUE_LIST_TOOLS, registryv1.CatalogueList_CATALOGUE_LIST_PROMPTS}
	changed <- struct{}{}
	expectEvents(t, reg, "refresh upstream CATALOGUE_LIST_TOOLS CATALOGUE_LIST_PROMPTS")
	changed <- struct{}{} // a change of connection, say: nothing to announce
	expectEvents(t, reg, "refresh upstream")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	expectEvents(t, reg, "deregister lease-1")
}
