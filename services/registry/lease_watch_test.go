package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

func TestPagination(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	var names []string
	for i := range 25 {
		names = append(names, fmt.Sprintf("t%02d", i))
	}
	p := newTestProvider(&mcpv1.Catalogue{Tools: tools(names...)})
	addr, _ := serveProvider(t, p)
	h.register(t, "svc", addr, 0)

	first, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "page 1", toolNamesOf(first), names[:10])

	// The catalogue changes between pages: an entry before the cursor goes away and
	// one after it appears. The cursor is a key, so page 2 still starts after t09.
	changed := append(append([]string{}, names[:3]...), names[4:]...)
	changed = append(changed, "t15b")
	p.setCatalogue(&mcpv1.Catalogue{Tools: tools(changed...)})
	if _, err := h.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "svc"}); err != nil {
		t.Fatal(err)
	}
	second, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{PageSize: 10, PageToken: first.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "page 2", toolNamesOf(second), []string{"t10", "t11", "t12", "t13", "t14", "t15", "t15b", "t16", "t17", "t18"})
	third, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{PageSize: 10, PageToken: second.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "page 3", toolNamesOf(third), names[19:])
	if third.GetNextPageToken() != "" {
		t.Fatalf("last page has next token %q", third.GetNextPageToken())
	}

	promptsToken := first.GetNextPageToken() // a tools cursor is no prompts cursor
	bad := []struct {
		name string
		call func() error
	}{
		{"garbage token", func() error {
			_, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{PageToken: "not a token!"})
			return err
		}},
		{"token of another list", func() error {
			_, err := h.client.ListPrompts(t.Context(), &registryv1.ListPromptsRequest{PageToken: promptsToken})
			return err
		}},
		{"negative page size", func() error {
			_, err := h.client.ListResources(t.Context(), &registryv1.ListResourcesRequest{PageSize: -1})
			return err
		}},
		{"garbage template token", func() error {
			_, err := h.client.ListResourceTemplates(t.Context(), &registryv1.ListResourceTemplatesRequest{PageToken: "%%"})
			return err
		}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), codes.InvalidArgument) })
	}

	// Oversized pages are capped rather than refused; the default applies to zero.
	all, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{PageSize: 1 << 20})
	if err != nil || len(all.GetTools()) != len(changed) {
		t.Fatalf("huge page = %d tools, %v; want %d", len(all.GetTools()), err, len(changed))
	}
}

func TestPaginationUsesConfiguredDefault(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DefaultPageSize = 2
	h := newHarness(t, cfg)
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Prompts: prompts("a", "b", "c")}))
	h.register(t, "svc", addr, 0)
	resp, err := h.client.ListPrompts(t.Context(), &registryv1.ListPromptsRequest{})
	if err != nil || len(resp.GetPrompts()) != 2 || resp.GetNextPageToken() == "" {
		t.Fatalf("ListPrompts = %v, %v; want 2 prompts and a cursor", resp, err)
	}
}

func TestLeaseRenewalExpiryAndSweep(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")}))
	lease := h.register(t, "svc", addr, 5).GetLeaseId()
	beat := func() error {
		_, err := h.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "svc", LeaseId: lease})
		return err
	}

	// Renewals keep it alive past the first lease's end.
	for range 3 {
		h.clock.Advance(4 * time.Second)
		if err := beat(); err != nil {
			t.Fatalf("heartbeat within the lease: %v", err)
		}
	}
	if err := h.svc.sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(listTools(t, h)); n != 1 {
		t.Fatalf("sweep removed a live lease: %d tools", n)
	}

	h.clock.Advance(5 * time.Second)
	// Expired but not yet swept: the heartbeat already says to register again.
	st := wantCode(t, beat(), codes.NotFound)
	if !strings.Contains(st.Message(), "register again") {
		t.Fatalf("message %q does not tell the caller to register again", st.Message())
	}
	provs, err := h.client.ListProviders(t.Context(), &registryv1.ListProvidersRequest{})
	if err != nil || len(provs.GetProviders()) != 0 {
		t.Fatalf("expired provider still listed: %v, %v", provs.GetProviders(), err)
	}
	if err := h.svc.sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(listTools(t, h)); n != 0 {
		t.Fatalf("%d tools left after the sweep", n)
	}
	wantCode(t, beat(), codes.NotFound)
}

func TestSweeperLoopPublishesExpiry(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SweepInterval = 5 * time.Millisecond
	h := newHarness(t, cfg)
	if err := h.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")}))
	h.register(t, "svc", addr, 5)

	stream, err := h.client.WatchCatalogue(t.Context(), &registryv1.WatchCatalogueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || len(first.GetTools()) != 1 {
		t.Fatalf("first snapshot = %v, %v", first, err)
	}
	h.clock.Advance(6 * time.Second)
	next, err := stream.Recv() // the background sweeper must produce this
	if err != nil {
		t.Fatal(err)
	}
	if len(next.GetProviders()) != 0 || len(next.GetTools()) != 0 || !next.GetToolsChanged() || next.GetRevision() <= first.GetRevision() {
		t.Fatalf("snapshot after expiry = %v", next)
	}
}

func TestWatchSnapshotsAndChangedFlags(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := h.client.WatchCatalogue(ctx, &registryv1.WatchCatalogueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	recv := func() *registryv1.WatchCatalogueResponse {
		t.Helper()
		m, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	initial := recv()
	if !initial.GetToolsChanged() || !initial.GetResourcesChanged() || !initial.GetPromptsChanged() {
		t.Fatalf("first snapshot must mark everything changed: %v", initial)
	}

	p := newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")})
	addr, _ := serveProvider(t, p)
	h.register(t, "svc", addr, 0)
	afterRegister := recv()
	assertFlags(t, "register", afterRegister, true, false, false)
	if afterRegister.GetRevision() <= initial.GetRevision() || len(afterRegister.GetTools()) != 1 ||
		afterRegister.GetTools()[0].GetName() != "echo" || afterRegister.GetProviders()[0].GetName() != "svc" {
		t.Fatalf("snapshot after register = %v", afterRegister)
	}

	p.setCatalogue(&mcpv1.Catalogue{Tools: tools("echo"), Prompts: prompts("greet"), Resources: resources("file:///x")})
	if _, err := h.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "svc"}); err != nil {
		t.Fatal(err)
	}
	afterRefresh := recv()
	assertFlags(t, "refresh", afterRefresh, false, true, true)
	if afterRefresh.GetRevision() <= afterRegister.GetRevision() {
		t.Fatalf("revision did not increase: %d then %d", afterRegister.GetRevision(), afterRefresh.GetRevision())
	}

	// A refresh that changes nothing publishes nothing; the next real change arrives
	// as the next message.
	if _, err := h.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "svc"}); err != nil {
		t.Fatal(err)
	}
	p.setCatalogue(&mcpv1.Catalogue{Tools: tools("echo", "more"), Prompts: prompts("greet"), Resources: resources("file:///x")})
	if _, err := h.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "svc"}); err != nil {
		t.Fatal(err)
	}
	assertFlags(t, "second refresh", recv(), true, false, false)
}

func TestWatchCoalescesForSlowWatchers(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	sub := h.svc.hub.Subscribe()
	defer sub.Close()
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")}))
	// Nobody reads sub while these changes happen; the registry must not block.
	for i := range 20 {
		h.register(t, fmt.Sprintf("p%02d", i), addr, 0)
	}
	<-sub.Wake()
	if got := sub.Latest(); len(got.Providers) != 20 {
		t.Fatalf("latest snapshot has %d providers, want 20", len(got.Providers))
	}
}

func TestStopEndsWatchStreams(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	if err := h.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stream, err := h.client.WatchCatalogue(t.Context(), &registryv1.WatchCatalogueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	wantCode(t, err, codes.Unavailable)
}

func TestStaticProvidersAreDescribedInTheBackground(t *testing.T) {
	cfg := DefaultConfig()
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("fixed_tool")}))
	cfg.Providers = []StaticProvider{
		{Name: "up", Address: addr},
		{Name: "down", Address: refusedAddress(t)}, // retried in the background, never fails Start
	}
	h := newHarness(t, cfg)
	stream, err := h.client.WatchCatalogue(t.Context(), &registryv1.WatchCatalogueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Start(t.Context()); err != nil {
		t.Fatalf("Start with a provider down: %v", err)
	}
	snap, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.GetProviders()) != 1 || snap.GetProviders()[0].GetName() != "up" || snap.GetProviders()[0].GetLeaseExpiresAt() != nil {
		t.Fatalf("snapshot after static describe = %v", snap.GetProviders())
	}
	// Static providers never expire.
	h.clock.Advance(24 * time.Hour)
	if err := h.svc.sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := toolNamesOf(&registryv1.ListToolsResponse{Tools: listTools(t, h)}); len(got) != 1 || got[0] != "fixed_tool" {
		t.Fatalf("tools after a day = %v", got)
	}
	_, err = h.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "up", LeaseId: "x"})
	wantCode(t, err, codes.NotFound)
}

func assertFlags(t *testing.T, when string, m *registryv1.WatchCatalogueResponse, tools, resources, prompts bool) {
	t.Helper()
	if m.GetToolsChanged() != tools || m.GetResourcesChanged() != resources || m.GetPromptsChanged() != prompts {
		t.Fatalf("after %s: changed flags tools=%v resources=%v prompts=%v, want %v %v %v", when,
			m.GetToolsChanged(), m.GetResourcesChanged(), m.GetPromptsChanged(), tools, resources, prompts)
	}
}

func listTools(t *testing.T, h *harness) []*registryv1.ToolView {
	t.Helper()
	resp, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetTools()
}

func toolNamesOf(resp *registryv1.ListToolsResponse) []string {
	var out []string
	for _, tv := range resp.GetTools() {
		out = append(out, tv.GetName())
	}
	return out
}
