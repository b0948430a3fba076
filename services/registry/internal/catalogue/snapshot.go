// Package catalogue builds the registry's routed catalogue: it names every provider's
// tools and prompts without collisions, resolves resource URI clashes, orders every
// list and freezes the result in an immutable Snapshot that list calls and watchers
// share.
package catalogue

import (
	"sync"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonvalue"
)

// Digest fingerprints one part of a snapshot, to tell watchers what changed.
type Digest [32]byte

// Snapshot is the routed catalogue at one revision. It is immutable: the messages it
// holds are shared by every reader and must never be modified.
type Snapshot struct {
	Revision          int64
	Providers         []*registryv1.Provider
	Tools             []*registryv1.RoutedTool
	Resources         []*registryv1.RoutedResource
	ResourceTemplates []*registryv1.RoutedResourceTemplate
	Prompts           []*registryv1.RoutedPrompt
	// Announcements are the providers' counts of announced list changes, ordered by
	// provider (those with none left out).
	Announcements []*registryv1.ListAnnouncements

	// Digests of the parts clients get list_changed notifications for, each with the
	// providers' announcements of that list. Resources covers templates too, as MCP's
	// resources/list_changed does.
	ToolsDigest, ResourcesDigest, PromptsDigest Digest
	// ProvidersDigest covers what routing depends on (names, addresses, versions),
	// not lease times.
	ProvidersDigest Digest

	toolViewsOnce sync.Once
	toolViews     []*registryv1.ToolView
}

// SameContent reports whether o routes and lists exactly what s does.
func (s *Snapshot) SameContent(o *Snapshot) bool {
	return s.ToolsDigest == o.ToolsDigest && s.ResourcesDigest == o.ResourcesDigest &&
		s.PromptsDigest == o.PromptsDigest && s.ProvidersDigest == o.ProvidersDigest
}

// WithRevision returns a copy of s at another revision, sharing its contents.
func (s *Snapshot) WithRevision(rev int64) *Snapshot {
	return &Snapshot{
		Revision: rev, Providers: s.Providers, Tools: s.Tools, Resources: s.Resources,
		ResourceTemplates: s.ResourceTemplates, Prompts: s.Prompts, Announcements: s.Announcements,
		ToolsDigest: s.ToolsDigest, ResourcesDigest: s.ResourcesDigest,
		PromptsDigest: s.PromptsDigest, ProvidersDigest: s.ProvidersDigest,
	}
}

// ToolViews returns the tools in the REST shape of ListTools, in the order of Tools. They
// are converted on first use and then shared, since only ListTools needs them.
// A JSON field that cannot be converted is left unset (Sanitize already rejects
// non-object schemas, so this does not happen for registered tools).
func (s *Snapshot) ToolViews() []*registryv1.ToolView {
	s.toolViewsOnce.Do(func() {
		views := make([]*registryv1.ToolView, len(s.Tools))
		for i, rt := range s.Tools {
			t := rt.GetTool()
			in, _ := jsonvalue.Struct(t.GetInputSchema())
			out, _ := jsonvalue.Struct(t.GetOutputSchema())
			ann, _ := jsonvalue.Struct(t.GetAnnotations())
			views[i] = &registryv1.ToolView{
				Name: rt.GetName(), Title: t.GetTitle(), Description: t.GetDescription(),
				Provider: rt.GetProvider(), InputSchema: in, OutputSchema: out, Annotations: ann,
			}
		}
		s.toolViews = views
	})
	return s.toolViews
}

// Key functions for Page, in the order each list is sorted by.
var (
	ToolKey     = func(t *registryv1.RoutedTool) string { return t.GetName() }
	ToolViewKey = func(t *registryv1.ToolView) string { return t.GetName() }
	ResourceKey = func(r *registryv1.RoutedResource) string { return r.GetResource().GetUri() }
	TemplateKey = func(r *registryv1.RoutedResourceTemplate) string {
		return r.GetResourceTemplate().GetUriTemplate()
	}
	PromptKey = func(p *registryv1.RoutedPrompt) string { return p.GetName() }
)
