// Package resources holds the everything provider's resources: static text and binary
// resources, and URI templates that render a document per identifier.
package resources

import (
	"context"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/sdk/provider"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/media"
)

// The provider's first static resource, which the get-resource tool and the prompts embed.
const (
	Static1URI  = "everything://static/1"
	Static1Text = "Static text resource 1 of the everything provider."
)

// static is a concrete resource with its contents.
type static struct {
	def      *mcpv1.Resource
	contents []content.ResourceContents
}

// template is a URI template with one variable.
type template struct {
	def      *mcpv1.ResourceTemplate
	variable string
	// render returns the contents for one value of the variable.
	render func(uri, value string) ([]content.ResourceContents, error)
	// values are the completion candidates of the variable.
	values []string
}

// Set is the provider's resources and templates.
type Set struct {
	static    []static
	templates []template
}

// NewSet builds the resources. assets supplies the binary samples.
func NewSet(assets media.Assets) (*Set, error) {
	s := &Set{}
	add := func(def *mcpv1.Resource, rc content.ResourceContents) error {
		def.Size = int64(len(rc.Text))
		if rc.Blob != "" {
			def.Size = int64(len(assets.PNG))
		}
		s.static = append(s.static, static{def: def, contents: []content.ResourceContents{rc}})
		return nil
	}
	text := func(uri, name, title, description, body string) error {
		return add(&mcpv1.Resource{Uri: uri, Name: name, Title: title, Description: description, MimeType: "text/plain"},
			content.ResourceContents{URI: uri, MimeType: "text/plain", Text: body})
	}
	png := func(uri, name, title, description string) error {
		return add(&mcpv1.Resource{Uri: uri, Name: name, Title: title, Description: description, MimeType: "image/png"},
			content.ResourceContents{URI: uri, MimeType: "image/png", Blob: assets.PNGBase64})
	}
	for _, err := range []error{
		text(Static1URI, "static-1", "Static text 1", "A static text resource.", Static1Text),
		png("everything://static/2", "static-2", "Static image 2", "A static binary resource: a small PNG image."),
		text("test://static-text", "static-text", "Static text", "A static text resource (conformance fixture).",
			"This is the content of the static text resource."),
		png("test://static-binary", "static-binary", "Static binary", "A static binary resource (conformance fixture)."),
		text("test://watched-resource", "watched-resource", "Watched resource",
			"A resource to subscribe to (conformance fixture).", "Watched resource content"),
	} {
		if err != nil {
			return nil, err
		}
	}
	s.templates = []template{
		{def: &mcpv1.ResourceTemplate{
			UriTemplate: "everything://items/{id}", Name: "item", Title: "Item",
			Description: "An item of the everything provider, by identifier.", MimeType: "application/json",
		}, variable: "id", render: renderItem, values: []string{"1", "2", "3", "10", "11", "12", "42", "100"}},
		{def: &mcpv1.ResourceTemplate{
			UriTemplate: "test://template/{id}/data", Name: "template-data", Title: "Template data",
			Description: "Data for an identifier (conformance fixture).", MimeType: "application/json",
		}, variable: "id", render: renderTemplateData, values: []string{"123", "124", "456"}},
	}
	return s, nil
}

// Resources lists the concrete resources. Callers must not modify them.
func (s *Set) Resources() []*mcpv1.Resource {
	out := make([]*mcpv1.Resource, len(s.static))
	for i := range s.static {
		out[i] = s.static[i].def
	}
	return out
}

// Features offers the resources and templates through the provider SDK. A reader in
// overrides replaces the static contents of its URI (for resources that change).
func (s *Set) Features(overrides map[string]provider.ReadFunc) []provider.Feature {
	var out []provider.Feature
	for i := range s.static {
		st := &s.static[i]
		read, ok := overrides[st.def.GetUri()]
		if !ok {
			read = func(context.Context, string) ([]content.ResourceContents, error) { return st.contents, nil }
		}
		out = append(out, provider.RawResource(st.def, read))
	}
	for i := range s.templates {
		t := &s.templates[i]
		out = append(out, provider.RawResourceTemplate(t.def,
			func(_ context.Context, uri string, vars map[string]string) ([]content.ResourceContents, error) {
				return t.render(uri, vars[t.variable])
			},
			func(_ context.Context, variable, _ string, _ map[string]string) ([]string, error) {
				if variable != t.variable {
					return nil, nil
				}
				return t.values, nil
			}))
	}
	return out
}

type item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func renderItem(uri, id string) ([]content.ResourceContents, error) {
	return provider.JSONContents(uri, item{ID: id, Name: "Item " + id})
}

type templateData struct {
	ID           string `json:"id"`
	TemplateTest bool   `json:"templateTest"`
	Data         string `json:"data"`
}

func renderTemplateData(uri, id string) ([]content.ResourceContents, error) {
	return provider.JSONContents(uri, templateData{ID: id, TemplateTest: true, Data: "Data for ID: " + id})
}
