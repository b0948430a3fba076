package registry

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

// A refresh that announces a list is a change of that list for every watcher, on the
// replica that served it and, through the shared store, on the others, even when the
// provider's description is the same; a refresh that announces nothing and changes
// nothing still publishes nothing.
func TestAnnouncedListsReachWatchers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas func(t *testing.T) (refreshed, watched *harness)
	}{
		{"memory", func(t *testing.T) (*harness, *harness) {
			h := newHarness(t, DefaultConfig())
			return h, h
		}},
		{"postgres", func(t *testing.T) (*harness, *harness) {
			db := newDB(t)
			cfg := DefaultConfig()
			cfg.RefreshInterval = time.Hour // only the NOTIFY can carry the change in time
			a, b := newHarnessOn(t, cfg, db), newHarnessOn(t, cfg, db)
			if err := b.svc.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			return a, b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refreshed, watched := tc.replicas(t)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			stream, err := watched.client.WatchCatalogue(ctx, &registryv1.WatchCatalogueRequest{})
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
			recv() // the empty catalogue
			addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo"), Prompts: prompts("greet")}))
			refreshed.register(t, "svc", addr, 10)
			registered := recv()
			if len(registered.GetAnnouncements()) != 0 {
				t.Fatalf("announcements before any: %v", registered.GetAnnouncements())
			}

			refresh := func(lists ...registryv1.CatalogueList) {
				t.Helper()
				if _, err := refreshed.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "svc", Announce: lists}); err != nil {
					t.Fatal(err)
				}
			}
			refresh(registryv1.CatalogueList_CATALOGUE_LIST_TOOLS)
			announced := recv()
			assertFlags(t, "a tools announcement", announced, true, false, false)
			want := []*registryv1.ListAnnouncements{{Provider: "svc", Tools: 1}}
			if !equalAnnouncements(announced.GetAnnouncements(), want) || !proto.Equal(announced.GetTools()[0], registered.GetTools()[0]) {
				t.Fatalf("after a tools announcement: announcements %v, tools %v", announced.GetAnnouncements(), announced.GetTools())
			}

			// Nothing announced, nothing changed: no snapshot. Then prompts and tools
			// together (tools named twice count once), as the next message.
			refresh()
			refresh(registryv1.CatalogueList_CATALOGUE_LIST_PROMPTS, registryv1.CatalogueList_CATALOGUE_LIST_TOOLS, registryv1.CatalogueList_CATALOGUE_LIST_TOOLS)
			both := recv()
			assertFlags(t, "a prompts and tools announcement", both, true, false, true)
			want = []*registryv1.ListAnnouncements{{Provider: "svc", Tools: 2, Prompts: 1}}
			if !equalAnnouncements(both.GetAnnouncements(), want) {
				t.Fatalf("announcements %v, want %v", both.GetAnnouncements(), want)
			}

			_, err = refreshed.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "svc", Announce: []registryv1.CatalogueList{registryv1.CatalogueList_CATALOGUE_LIST_UNSPECIFIED}})
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

func equalAnnouncements(a, b []*registryv1.ListAnnouncements) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
