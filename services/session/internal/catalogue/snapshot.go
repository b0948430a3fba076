package catalogue

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

// Route says where a catalogue entry is served.
type Route struct {
	// Provider is the provider's name, for messages.
	Provider string
	// Address is the gRPC target of the provider ("" when the registry did not list it).
	Address string
	// Name is the entry's name as the provider knows it (tools and prompts).
	Name string
}

// Entry is one listed item: its sort key (exposed name, URI or URI template), its
// JSON per rendering class and its route.
type Entry struct {
	Key   string
	JSON  [numClasses][]byte
	Route Route
	// InputSchema and OutputSchema are a tool's JSON Schemas as the provider gave them
	// (nil when absent or not a JSON object); the session validates calls against them.
	InputSchema  []byte
	OutputSchema []byte
	// Routed is the registry's item (*registryv1.RoutedTool, RoutedResource,
	// RoutedResourceTemplate or RoutedPrompt), for the REST listings, which answer in
	// the registry's shapes. Shared and immutable.
	Routed proto.Message
}

// Render returns the entry's JSON for class c.
func (e *Entry) Render(c Class) []byte { return e.JSON[c] }

// Snapshot is one revision of the routed catalogue. It is immutable once built.
type Snapshot struct {
	Revision     int64
	Instructions string
	Tools        []Entry
	Resources    []Entry
	Templates    []Entry
	Prompts      []Entry
	// Providers maps each provider's name to its address.
	Providers map[string]string
	// announced are the providers' counts of announced list changes (changes.go).
	announced map[string]announcements

	toolIndex     map[string]int
	resourceIndex map[string]int
	templateIndex map[string]int
	promptIndex   map[string]int
	matchers      []*uriTemplate // parallel to Templates; nil when not matchable
}

// Build renders a registry snapshot.
func Build(resp *registryv1.WatchCatalogueResponse) *Snapshot {
	addr := make(map[string]string, len(resp.GetProviders()))
	providers := slices.Clone(resp.GetProviders())
	slices.SortFunc(providers, func(a, b *registryv1.Provider) int { return cmp.Compare(a.GetName(), b.GetName()) })
	var instructions []string
	for _, p := range providers {
		addr[p.GetName()] = p.GetAddress()
		if s := strings.TrimSpace(p.GetInstructions()); s != "" {
			instructions = append(instructions, s)
		}
	}
	s := &Snapshot{Revision: resp.GetRevision(), Instructions: strings.Join(instructions, "\n\n"), Providers: addr}
	for _, a := range resp.GetAnnouncements() {
		if s.announced == nil {
			s.announced = map[string]announcements{}
		}
		s.announced[a.GetProvider()] = announcements{tools: a.GetTools(), resources: a.GetResources(), prompts: a.GetPrompts()}
	}

	for _, t := range resp.GetTools() {
		e := Entry{
			Key:          t.GetName(),
			Route:        Route{Provider: t.GetProvider(), Address: addr[t.GetProvider()], Name: t.GetTool().GetName()},
			InputSchema:  rawOf(t.GetTool().GetInputSchema(), '{'),
			OutputSchema: rawOf(t.GetTool().GetOutputSchema(), '{'),
			Routed:       t,
		}
		for c := range numClasses {
			e.JSON[c] = renderTool(t.GetName(), t.GetTool(), c)
		}
		s.Tools = append(s.Tools, e)
	}
	for _, r := range resp.GetResources() {
		e := Entry{Key: r.GetResource().GetUri(), Route: Route{Provider: r.GetProvider(), Address: addr[r.GetProvider()]}, Routed: r}
		for c := range numClasses {
			e.JSON[c] = renderResource(r.GetResource(), c)
		}
		s.Resources = append(s.Resources, e)
	}
	for _, t := range resp.GetResourceTemplates() {
		e := Entry{Key: t.GetResourceTemplate().GetUriTemplate(), Route: Route{Provider: t.GetProvider(), Address: addr[t.GetProvider()]}, Routed: t}
		for c := range numClasses {
			e.JSON[c] = renderTemplate(t.GetResourceTemplate(), c)
		}
		s.Templates = append(s.Templates, e)
	}
	for _, p := range resp.GetPrompts() {
		e := Entry{Key: p.GetName(), Route: Route{Provider: p.GetProvider(), Address: addr[p.GetProvider()], Name: p.GetPrompt().GetName()}, Routed: p}
		for c := range numClasses {
			e.JSON[c] = renderPrompt(p.GetName(), p.GetPrompt(), c)
		}
		s.Prompts = append(s.Prompts, e)
	}

	s.Tools, s.toolIndex = sortAndIndex(s.Tools)
	s.Resources, s.resourceIndex = sortAndIndex(s.Resources)
	s.Templates, s.templateIndex = sortAndIndex(s.Templates)
	s.Prompts, s.promptIndex = sortAndIndex(s.Prompts)
	s.matchers = make([]*uriTemplate, len(s.Templates))
	for i := range s.Templates {
		s.matchers[i] = parseTemplate(s.Templates[i].Key)
	}
	return s
}

// sortAndIndex orders entries by key, drops empty and duplicate keys (the first wins:
// the registry already resolves collisions) and indexes them.
func sortAndIndex(es []Entry) ([]Entry, map[string]int) {
	slices.SortStableFunc(es, func(a, b Entry) int { return cmp.Compare(a.Key, b.Key) })
	out := es[:0]
	for _, e := range es {
		if e.Key == "" || (len(out) > 0 && out[len(out)-1].Key == e.Key) {
			continue
		}
		out = append(out, e)
	}
	index := make(map[string]int, len(out))
	for i, e := range out {
		index[e.Key] = i
	}
	return slices.Clip(out), index
}

// Tool finds a tool by its exposed name.
func (s *Snapshot) Tool(name string) (*Entry, bool) { return lookup(s.Tools, s.toolIndex, name) }

// Prompt finds a prompt by its exposed name.
func (s *Snapshot) Prompt(name string) (*Entry, bool) { return lookup(s.Prompts, s.promptIndex, name) }

// Template finds a resource template by its exact URI template.
func (s *Snapshot) Template(t string) (*Entry, bool) {
	return lookup(s.Templates, s.templateIndex, t)
}

// Resource routes a URI: an exact concrete resource first, then the first template
// (in template order) that matches it.
func (s *Snapshot) Resource(uri string) (*Entry, bool) {
	if e, ok := lookup(s.Resources, s.resourceIndex, uri); ok {
		return e, true
	}
	for i, m := range s.matchers {
		if m != nil && m.match(uri) {
			return &s.Templates[i], true
		}
	}
	return nil, false
}

func lookup(es []Entry, index map[string]int, key string) (*Entry, bool) {
	i, ok := index[key]
	if !ok {
		return nil, false
	}
	return &es[i], true
}

// Page returns up to size entries whose keys come after the key after ("" = from the
// start), and whether more follow.
func Page(es []Entry, after string, size int) ([]Entry, bool) {
	start := pageStart(es, after)
	end := min(start+size, len(es))
	return es[start:end], end < len(es)
}

// FilteredPage is Page over the entries keep accepts: it copies up to size of them
// and reports whether another one follows.
func FilteredPage(es []Entry, after string, size int, keep func(*Entry) bool) ([]Entry, bool) {
	var page []Entry
	for i := pageStart(es, after); i < len(es); i++ {
		if !keep(&es[i]) {
			continue
		}
		if len(page) == size {
			return page, true
		}
		page = append(page, es[i])
	}
	return page, false
}

// pageStart is the index of the first entry after the key after ("" for the first page).
func pageStart(es []Entry, after string) int {
	start := 0
	if after != "" {
		start = sort.Search(len(es), func(i int) bool { return es[i].Key > after })
	}
	return start
}
