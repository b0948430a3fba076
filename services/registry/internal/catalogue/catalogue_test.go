package catalogue

import (
	"fmt"
	"slices"
	"testing"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
)

func TestExposeNames(t *testing.T) {
	tests := []struct {
		name   string
		offers []offer
		want   []string
	}{
		{"unique names stay plain", []offer{{"a", "x"}, {"b", "y"}}, []string{"x", "y"}},
		{"shared names are qualified on every provider", []offer{{"a", "x"}, {"b", "x"}, {"c", "z"}}, []string{"a.x", "b.x", "z"}},
		{"three-way clash", []offer{{"a", "x"}, {"b", "x"}, {"c", "x"}}, []string{"a.x", "b.x", "c.x"}},
		{
			"a plain name equal to a qualified one is qualified too",
			[]offer{{"a", "x"}, {"b", "x"}, {"c", "a.x"}},
			[]string{"a.x", "b.x", "c.a.x"},
		},
		{
			"qualification cascades until unique",
			[]offer{{"a", "x"}, {"b", "x"}, {"c", "a.x"}, {"d", "c.a.x"}},
			[]string{"a.x", "b.x", "c.a.x", "d.c.a.x"},
		},
		{"nothing", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exposeNames(tt.offers)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("exposeNames = %q, want %q", got, tt.want)
			}
			seen := map[string]bool{}
			for _, n := range got {
				if seen[n] {
					t.Fatalf("duplicate exposed name %q", n)
				}
				seen[n] = true
			}
		})
	}
}

func TestBuildOrdersRoutesAndReportsClashes(t *testing.T) {
	recs := []store.Record{
		{Name: "zed", Address: "z:1", Catalogue: &mcpv1.Catalogue{
			Tools:     []*mcpv1.Tool{{Name: "run"}, {Name: "b"}},
			Resources: []*mcpv1.Resource{{Uri: "u://same"}, {Uri: "u://z"}},
		}},
		{Name: "amy", Address: "a:1", Catalogue: &mcpv1.Catalogue{
			Tools:     []*mcpv1.Tool{{Name: "run"}, {Name: "a"}},
			Resources: []*mcpv1.Resource{{Uri: "u://same"}},
		}},
	}
	s, rep := Build(7, recs)
	if s.Revision != 7 {
		t.Fatalf("revision = %d", s.Revision)
	}
	var names []string
	for _, tl := range s.Tools {
		names = append(names, tl.GetName())
	}
	if want := []string{"a", "amy.run", "b", "zed.run"}; !slices.Equal(names, want) {
		t.Fatalf("tools = %q, want %q", names, want)
	}
	// The clashing tool keeps its provider's name for it under the exposed one.
	if zed := s.Tools[3]; zed.GetProvider() != "zed" || zed.GetTool().GetName() != "run" {
		t.Fatalf("zed.run = %v", zed)
	}
	if s.Resources[0].GetProvider() != "amy" || len(s.Resources) != 2 {
		t.Fatalf("resources = %v", s.Resources)
	}
	if len(rep.ShadowedResources) != 1 || rep.ShadowedResources[0].Winner != "amy" || rep.ShadowedResources[0].Losers[0] != "zed" {
		t.Fatalf("report = %+v", rep)
	}
	if s.Providers[0].GetName() != "amy" || s.Providers[1].GetName() != "zed" {
		t.Fatalf("providers out of order: %v", s.Providers)
	}
}

func TestDigestsTellWhatChanged(t *testing.T) {
	base := store.Record{Name: "p", Address: "h:1", Catalogue: &mcpv1.Catalogue{
		Tools: []*mcpv1.Tool{{Name: "t"}}, Prompts: []*mcpv1.Prompt{{Name: "p"}}, Resources: []*mcpv1.Resource{{Uri: "u://r"}},
	}}
	before, _ := Build(1, []store.Record{base})

	renewed := base
	renewed.LeaseExpiresAt = time.Now().Add(time.Hour)
	same, _ := Build(2, []store.Record{renewed})
	if !before.SameContent(same) {
		t.Fatal("a lease renewal counts as a content change")
	}

	moved := base
	moved.Address = "h:2"
	addr, _ := Build(2, []store.Record{moved})
	if before.SameContent(addr) || addr.ToolsDigest != before.ToolsDigest {
		t.Fatal("an address change must change routing but not the tool list")
	}

	withTemplate := base
	withTemplate.Catalogue = &mcpv1.Catalogue{
		Tools: base.Catalogue.Tools, Prompts: base.Catalogue.Prompts, Resources: base.Catalogue.Resources,
		ResourceTemplates: []*mcpv1.ResourceTemplate{{UriTemplate: "u://{x}"}},
	}
	tpl, _ := Build(2, []store.Record{withTemplate})
	if tpl.ResourcesDigest == before.ResourcesDigest || tpl.ToolsDigest != before.ToolsDigest || tpl.PromptsDigest != before.PromptsDigest {
		t.Fatal("a new template must change resources only")
	}
}

func TestToolViewsConvertSchemas(t *testing.T) {
	s, _ := Build(1, []store.Record{{Name: "p", Catalogue: &mcpv1.Catalogue{Tools: []*mcpv1.Tool{{
		Name: "t", Title: "T", InputSchema: []byte(`{"type":"object"}`),
		OutputSchema: []byte(`{"type":"object","properties":{"n":{"type":"number"}}}`), Annotations: []byte(`{"readOnlyHint":true}`),
	}}}}})
	v := s.ToolViews()
	if len(v) != 1 || v[0].GetName() != "t" || v[0].GetProvider() != "p" || v[0].GetTitle() != "T" {
		t.Fatalf("views = %v", v)
	}
	if v[0].GetInputSchema().GetFields()["type"].GetStringValue() != "object" ||
		!v[0].GetAnnotations().GetFields()["readOnlyHint"].GetBoolValue() || v[0].GetOutputSchema() == nil {
		t.Fatalf("view = %v", v[0])
	}
	if &s.ToolViews()[0] != &v[0] {
		t.Fatal("tool views are rebuilt on every call")
	}
}

func TestSanitize(t *testing.T) {
	in := &mcpv1.Catalogue{
		Tools: []*mcpv1.Tool{
			{Name: "ok", InputSchema: []byte(` {"type":"object"}`)},
			{Name: ""},
			{Name: "ok"},
			{Name: "array_schema", InputSchema: []byte(`[]`)},
			{Name: "broken_annotations", Annotations: []byte(`{`)},
		},
		Resources:         []*mcpv1.Resource{{Uri: "u://a"}, {Uri: ""}, {Uri: "u://a"}},
		ResourceTemplates: []*mcpv1.ResourceTemplate{{UriTemplate: "u://{x}"}, {}},
		Prompts:           []*mcpv1.Prompt{{Name: "p"}, {Name: "p"}, {}},
	}
	out, problems := Sanitize(in)
	if len(out.GetTools()) != 1 || len(out.GetResources()) != 1 || len(out.GetResourceTemplates()) != 1 || len(out.GetPrompts()) != 1 {
		t.Fatalf("sanitized = %v", out)
	}
	if len(problems) != 9 {
		t.Fatalf("problems = %d %q, want 9", len(problems), problems)
	}
	if len(in.GetTools()) != 5 {
		t.Fatal("Sanitize modified its input")
	}
	if empty, p := Sanitize(nil); empty == nil || len(p) != 0 {
		t.Fatal("Sanitize(nil) must give an empty catalogue")
	}
}

func TestPage(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	tests := []struct {
		after string
		size  int
		want  []string
		more  bool
	}{
		{"", 2, []string{"a", "b"}, true},
		{"b", 2, []string{"c", "d"}, true},
		{"d", 2, []string{"e"}, false},
		{"bb", 10, []string{"c", "d", "e"}, false}, // the key left the list: resume after it
		{"e", 2, []string{}, false},
		{"z", 2, []string{}, false},
	}
	for _, tt := range tests {
		got, more := Page(items, id, tt.after, tt.size)
		if !slices.Equal(got, tt.want) || more != tt.more {
			t.Errorf("Page(after %q, %d) = %q, %v; want %q, %v", tt.after, tt.size, got, more, tt.want, tt.more)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	var recs []store.Record
	for p := range 20 {
		cat := &mcpv1.Catalogue{}
		for i := range 50 {
			cat.Tools = append(cat.Tools, &mcpv1.Tool{Name: fmt.Sprintf("tool%d", i), InputSchema: []byte(`{"type":"object"}`)})
		}
		recs = append(recs, store.Record{Name: fmt.Sprintf("p%02d", p), Address: "h:1", Catalogue: cat})
	}
	b.ReportAllocs()
	for b.Loop() {
		Build(1, recs)
	}
}
