package catalogue

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
)

// Shadowed is a resource URI (or URI template) that several providers offer; Winner
// serves it and Losers are hidden.
type Shadowed struct {
	Key    string
	Winner string
	Losers []string
}

// Report lists what Build had to resolve, for one warning per change.
type Report struct {
	ShadowedResources []Shadowed
	ShadowedTemplates []Shadowed
}

// Build freezes records into a snapshot at revision rev. Records' catalogues are
// expected to be sanitized (see Sanitize).
func Build(rev int64, records []store.Record) (*Snapshot, Report) {
	recs := slices.Clone(records)
	// Sorting by provider name first makes every choice below deterministic: the
	// provider whose name sorts first wins a URI clash.
	slices.SortFunc(recs, func(a, b store.Record) int { return cmp.Compare(a.Name, b.Name) })

	s := &Snapshot{Revision: rev}
	var rep Report
	s.Providers = buildProviders(recs)
	s.Tools = buildTools(recs)
	s.Prompts = buildPrompts(recs)
	s.Resources, rep.ShadowedResources = buildResources(recs)
	s.ResourceTemplates, rep.ShadowedTemplates = buildTemplates(recs)

	s.Announcements = buildAnnouncements(recs)

	tools := newDigester()
	addAll(tools, s.Tools)
	tools.announced(s.Announcements, (*registryv1.ListAnnouncements).GetTools)
	s.ToolsDigest = tools.sum()
	prompts := newDigester()
	addAll(prompts, s.Prompts)
	prompts.announced(s.Announcements, (*registryv1.ListAnnouncements).GetPrompts)
	s.PromptsDigest = prompts.sum()
	res := newDigester()
	addAll(res, s.Resources)
	res.endList()
	addAll(res, s.ResourceTemplates)
	res.announced(s.Announcements, (*registryv1.ListAnnouncements).GetResources)
	s.ResourcesDigest = res.sum()
	routing := make([]*registryv1.Provider, len(s.Providers))
	for i, p := range s.Providers {
		routing[i] = &registryv1.Provider{Name: p.GetName(), Address: p.GetAddress(), Version: p.GetVersion(), Instructions: p.GetInstructions()}
	}
	s.ProvidersDigest = digestOf(routing)
	return s, rep
}

// ProviderView renders one record as the API shows it.
func ProviderView(r store.Record) *registryv1.Provider {
	cat := r.Catalogue
	p := &registryv1.Provider{
		Name: r.Name, Address: r.Address, Version: r.Version, Instructions: r.Instructions,
		ToolCount:             int32(len(cat.GetTools())),
		ResourceCount:         int32(len(cat.GetResources())),
		ResourceTemplateCount: int32(len(cat.GetResourceTemplates())),
		PromptCount:           int32(len(cat.GetPrompts())),
		RegisteredAt:          timestamppb.New(r.RegisteredAt),
	}
	if !r.LeaseExpiresAt.IsZero() {
		p.LeaseExpiresAt = timestamppb.New(r.LeaseExpiresAt)
	}
	return p
}

func buildProviders(recs []store.Record) []*registryv1.Provider {
	out := make([]*registryv1.Provider, len(recs))
	for i, r := range recs {
		out[i] = ProviderView(r)
	}
	return out
}

// buildAnnouncements lists the providers' announcement counts; recs are sorted by name.
func buildAnnouncements(recs []store.Record) []*registryv1.ListAnnouncements {
	var out []*registryv1.ListAnnouncements
	for _, r := range recs {
		if a := r.Announced; a != (store.Announced{}) {
			out = append(out, &registryv1.ListAnnouncements{Provider: r.Name, Tools: a.Tools, Resources: a.Resources, Prompts: a.Prompts})
		}
	}
	return out
}

func buildTools(recs []store.Record) []*registryv1.RoutedTool {
	var offers []offer
	var tools []*registryv1.RoutedTool
	for _, r := range recs {
		for _, t := range r.Catalogue.GetTools() {
			offers = append(offers, offer{provider: r.Name, name: t.GetName()})
			tools = append(tools, &registryv1.RoutedTool{Provider: r.Name, Tool: t})
		}
	}
	for i, name := range exposeNames(offers) {
		tools[i].Name = name
	}
	slices.SortFunc(tools, func(a, b *registryv1.RoutedTool) int { return cmp.Compare(a.Name, b.Name) })
	return tools
}

func buildPrompts(recs []store.Record) []*registryv1.RoutedPrompt {
	var offers []offer
	var prompts []*registryv1.RoutedPrompt
	for _, r := range recs {
		for _, p := range r.Catalogue.GetPrompts() {
			offers = append(offers, offer{provider: r.Name, name: p.GetName()})
			prompts = append(prompts, &registryv1.RoutedPrompt{Provider: r.Name, Prompt: p})
		}
	}
	for i, name := range exposeNames(offers) {
		prompts[i].Name = name
	}
	slices.SortFunc(prompts, func(a, b *registryv1.RoutedPrompt) int { return cmp.Compare(a.Name, b.Name) })
	return prompts
}

// buildResources keys resources by URI; recs are sorted by provider name, so the first
// provider seen wins a clash.
func buildResources(recs []store.Record) ([]*registryv1.RoutedResource, []Shadowed) {
	var out []*registryv1.RoutedResource
	owner := map[string]int{}
	var clashes []Shadowed
	clashIndex := map[string]int{}
	for _, r := range recs {
		for _, res := range r.Catalogue.GetResources() {
			uri := res.GetUri()
			if i, taken := owner[uri]; taken {
				clashes, clashIndex = noteClash(clashes, clashIndex, uri, out[i].GetProvider(), r.Name)
				continue
			}
			owner[uri] = len(out)
			out = append(out, &registryv1.RoutedResource{Provider: r.Name, Resource: res})
		}
	}
	slices.SortFunc(out, func(a, b *registryv1.RoutedResource) int { return cmp.Compare(ResourceKey(a), ResourceKey(b)) })
	return out, clashes
}

func buildTemplates(recs []store.Record) ([]*registryv1.RoutedResourceTemplate, []Shadowed) {
	var out []*registryv1.RoutedResourceTemplate
	owner := map[string]int{}
	var clashes []Shadowed
	clashIndex := map[string]int{}
	for _, r := range recs {
		for _, tpl := range r.Catalogue.GetResourceTemplates() {
			key := tpl.GetUriTemplate()
			if i, taken := owner[key]; taken {
				clashes, clashIndex = noteClash(clashes, clashIndex, key, out[i].GetProvider(), r.Name)
				continue
			}
			owner[key] = len(out)
			out = append(out, &registryv1.RoutedResourceTemplate{Provider: r.Name, ResourceTemplate: tpl})
		}
	}
	slices.SortFunc(out, func(a, b *registryv1.RoutedResourceTemplate) int { return cmp.Compare(TemplateKey(a), TemplateKey(b)) })
	return out, clashes
}

func noteClash(clashes []Shadowed, index map[string]int, key, winner, loser string) ([]Shadowed, map[string]int) {
	if i, ok := index[key]; ok {
		clashes[i].Losers = append(clashes[i].Losers, loser)
		return clashes, index
	}
	index[key] = len(clashes)
	return append(clashes, Shadowed{Key: key, Winner: winner, Losers: []string{loser}}), index
}

// digester hashes lists of messages deterministically. Lengths and list ends are mixed
// in so that moving an entry from one list to the next changes the digest.
type digester struct {
	h    hash.Hash
	buf  []byte
	opts proto.MarshalOptions
}

func newDigester() *digester {
	return &digester{h: sha256.New(), opts: proto.MarshalOptions{Deterministic: true}}
}

func (d *digester) add(m proto.Message) {
	var err error
	d.buf, err = d.opts.MarshalAppend(d.buf[:0], m)
	if err != nil {
		// Marshalling valid in-memory messages does not fail; hash the error text so the
		// digest still differs from an empty list.
		d.buf = append(d.buf[:0], err.Error()...)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(d.buf)))
	d.h.Write(n[:])
	d.h.Write(d.buf)
}

func (d *digester) endList() { d.h.Write([]byte{0xff}) }

// announced ends the list and mixes in each provider's count of one list's
// announcements (count picks it), so that an announcement changes the digest.
func (d *digester) announced(list []*registryv1.ListAnnouncements, count func(*registryv1.ListAnnouncements) int64) {
	d.endList()
	for _, a := range list {
		if n := count(a); n != 0 {
			d.h.Write([]byte(a.GetProvider()))
			var b [9]byte // a zero byte ends the name: provider names have none
			binary.LittleEndian.PutUint64(b[1:], uint64(n))
			d.h.Write(b[:])
		}
	}
}

func addAll[M proto.Message](d *digester, list []M) {
	for _, m := range list {
		d.add(m)
	}
}

func (d *digester) sum() Digest {
	var out Digest
	d.h.Sum(out[:0])
	return out
}

func digestOf[M proto.Message](list []M) Digest {
	d := newDigester()
	addAll(d, list)
	return d.sum()
}
