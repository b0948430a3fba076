package catalogue

import (
	"slices"
	"testing"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

func TestChanged(t *testing.T) {
	base := func() *registryv1.WatchCatalogueResponse {
		return &registryv1.WatchCatalogueResponse{
			Providers: []*registryv1.Provider{{Name: "p", Address: "inproc"}},
			Tools:     []*registryv1.RoutedTool{{Name: "echo", Provider: "p", Tool: &mcpv1.Tool{Name: "echo", Description: "Echo"}}},
			Resources: []*registryv1.RoutedResource{{Provider: "p", Resource: &mcpv1.Resource{Uri: "test://a", Name: "a"}}},
			Prompts:   []*registryv1.RoutedPrompt{{Name: "hi", Provider: "p", Prompt: &mcpv1.Prompt{Name: "hi"}}},
		}
	}
	cases := []struct {
		name   string
		change func(r *registryv1.WatchCatalogueResponse)
		want   []string
	}{
		{"nothing", func(*registryv1.WatchCatalogueResponse) {}, nil},
		{"only the revision", func(r *registryv1.WatchCatalogueResponse) { r.Revision = 9 }, nil},
		{"a tool's description", func(r *registryv1.WatchCatalogueResponse) { r.Tools[0].Tool.Description = "Echo back" }, []string{KindTools}},
		{"a template added", func(r *registryv1.WatchCatalogueResponse) {
			r.ResourceTemplates = []*registryv1.RoutedResourceTemplate{{Provider: "p", ResourceTemplate: &mcpv1.ResourceTemplate{UriTemplate: "test://{id}", Name: "t"}}}
		}, []string{KindResources}},
		{"a prompt removed and a tool added", func(r *registryv1.WatchCatalogueResponse) {
			r.Prompts = nil
			r.Tools = append(r.Tools, &registryv1.RoutedTool{Name: "add", Provider: "p", Tool: &mcpv1.Tool{Name: "add"}})
		}, []string{KindTools, KindPrompts}},
		// A provider announced a list changed; its entries are the same.
		{"tools announced", func(r *registryv1.WatchCatalogueResponse) {
			r.Announcements = []*registryv1.ListAnnouncements{{Provider: "p", Tools: 1}}
		}, []string{KindTools}},
		{"resources and prompts announced", func(r *registryv1.WatchCatalogueResponse) {
			r.Announcements = []*registryv1.ListAnnouncements{{Provider: "p", Resources: 3, Prompts: 1}}
		}, []string{KindResources, KindPrompts}},
		{"tools announced by a provider that just came", func(r *registryv1.WatchCatalogueResponse) {
			r.Providers = append(r.Providers, &registryv1.Provider{Name: "q", Address: "inproc"})
			r.Announcements = []*registryv1.ListAnnouncements{{Provider: "q", Tools: 4}}
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := base()
			tc.change(next)
			if got := Changed(Build(base()), Build(next)); !slices.Equal(got, tc.want) {
				t.Fatalf("Changed = %v, want %v", got, tc.want)
			}
		})
	}
	if got := Changed(nil, Build(base())); got != nil {
		t.Fatalf("a first snapshot changed %v", got)
	}

	// Counts compare between snapshots: the same counts again change nothing; a count
	// that moves (or resets, when the provider registered afresh) changes its list.
	announced := func(tools, prompts int64) *Snapshot {
		r := base()
		r.Announcements = []*registryv1.ListAnnouncements{{Provider: "p", Tools: tools, Prompts: prompts}}
		return Build(r)
	}
	for _, tc := range []struct {
		name      string
		old, next *Snapshot
		want      []string
	}{
		{"same counts", announced(2, 1), announced(2, 1), nil},
		{"tools moved", announced(2, 1), announced(3, 1), []string{KindTools}},
		{"counts reset", announced(2, 1), Build(base()), []string{KindTools, KindPrompts}},
	} {
		if got := Changed(tc.old, tc.next); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Changed = %v, want %v", tc.name, got, tc.want)
		}
	}
}
