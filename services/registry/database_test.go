package registry

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// newDB returns a pool on a fresh, migrated database.
func newDB(t *testing.T) *pgxpool.Pool {
	return pgtest.NewPool(t, func(ctx context.Context, pool *pgxpool.Pool) error {
		for range 2 { // replicas starting together each migrate; the second finds nothing to do
			if err := Migrate(ctx, pool, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

func providerNames(t *testing.T, h *harness) []string {
	t.Helper()
	resp, err := h.client.ListProviders(t.Context(), &registryv1.ListProvidersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range resp.GetProviders() {
		out = append(out, p.GetName())
	}
	return out
}

// TestLeasesOnAnyReplica registers on one replica and heartbeats, lists, deregisters
// and sweeps on another: the lease lives in the shared store, not in a replica.
func TestLeasesOnAnyReplica(t *testing.T) {
	db := newDB(t)
	a, b := newHarnessOn(t, DefaultConfig(), db), newHarnessOn(t, DefaultConfig(), db)
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")}))

	first := a.register(t, "alpha", addr, 10)
	if _, err := b.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "alpha", LeaseId: first.GetLeaseId()}); err != nil {
		t.Fatalf("heartbeat on the other replica: %v", err)
	}
	if got := providerNames(t, b); !slices.Equal(got, []string{"alpha"}) {
		t.Fatalf("providers seen by the other replica = %v", got)
	}
	if _, err := b.client.DeregisterProvider(t.Context(), &registryv1.DeregisterProviderRequest{Name: "alpha", LeaseId: first.GetLeaseId()}); err != nil {
		t.Fatalf("deregister on the other replica: %v", err)
	}
	_, err := a.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "alpha", LeaseId: first.GetLeaseId()})
	wantCode(t, err, codes.NotFound)

	// A lease granted by one replica expires through the other's sweep.
	second := a.register(t, "alpha", addr, 10)
	b.clock.Advance(11 * time.Second)
	if err := b.svc.sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err = a.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "alpha", LeaseId: second.GetLeaseId()})
	wantCode(t, err, codes.NotFound)
	if got := providerNames(t, a); len(got) != 0 {
		t.Fatalf("providers after the sweep = %v", got)
	}
}

// TestStoreUnavailable checks that calls needing an unreachable database fail at once
// with a retryable status and a message a person can act on.
func TestStoreUnavailable(t *testing.T) {
	down := refusedAddress(t)
	db, err := pgxpool.New(t.Context(), "postgres://postgres@"+down+"/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	h := newHarnessOn(t, DefaultConfig(), db)
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")}))

	calls := map[string]func() error{
		"register": func() error {
			_, err := h.client.RegisterProvider(t.Context(), &registryv1.RegisterProviderRequest{Name: "alpha", Address: addr})
			return err
		},
		"heartbeat": func() error {
			_, err := h.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "alpha", LeaseId: "L"})
			return err
		},
		"deregister": func() error {
			_, err := h.client.DeregisterProvider(t.Context(), &registryv1.DeregisterProviderRequest{Name: "alpha", LeaseId: "L"})
			return err
		},
		"list providers": func() error {
			_, err := h.client.ListProviders(t.Context(), &registryv1.ListProvidersRequest{})
			return err
		},
	}
	for name, call := range calls {
		st := wantCode(t, call(), codes.Unavailable)
		if st.Message() != "registry store unavailable, retry" || strings.Contains(st.Message(), down) {
			t.Errorf("%s: message %q", name, st.Message())
		}
	}
}

// TestChangesReachOtherReplicas registers on one replica and watches on another: the
// watcher sees the provider's tools, and sees them go when the provider deregisters
// on the first replica. It runs once with only the fallback poll (a short refresh
// interval) and once with only notifications (a refresh interval longer than the
// test), so each path is shown to work on its own.
func TestChangesReachOtherReplicas(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refresh time.Duration
	}{{"poll", 20 * time.Millisecond}, {"notify", time.Hour}} {
		t.Run(tc.name, func(t *testing.T) { testChangesReachOtherReplicas(t, tc.refresh) })
	}
}

func testChangesReachOtherReplicas(t *testing.T, refresh time.Duration) {
	db := newDB(t)
	cfg := DefaultConfig()
	cfg.RefreshInterval = refresh
	a, b := newHarnessOn(t, cfg, db), newHarnessOn(t, cfg, db)
	if err := b.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A change that never arrives fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	stream, err := b.client.WatchCatalogue(ctx, &registryv1.WatchCatalogueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := stream.Recv(); err != nil || len(first.GetTools()) != 0 {
		t.Fatalf("first snapshot: %v %v", first, err)
	}
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")}))
	lease := a.register(t, "alpha", addr, 10)
	next, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(next.GetTools()) != 1 || next.GetTools()[0].GetName() != "echo" || !next.GetToolsChanged() {
		t.Fatalf("the other replica's watcher saw %v", next.GetTools())
	}
	if _, err := a.client.DeregisterProvider(t.Context(), &registryv1.DeregisterProviderRequest{Name: "alpha", LeaseId: lease.GetLeaseId()}); err != nil {
		t.Fatal(err)
	}
	gone, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(gone.GetTools()) != 0 {
		t.Fatalf("tools after deregistration on the other replica: %v", gone.GetTools())
	}
}
