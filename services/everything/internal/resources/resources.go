// Package resources holds the everything provider's resources: static text and binary
// resources, and URI templates that render a document per identifier.
package resources

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/content"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/faults"
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
	contents []byte
}

// template is a level-1 URI template with exactly one variable: prefix{variable}suffix.
type template struct {
	def      *mcpv1.ResourceTemplate
	prefix   string
	variable string
	suffix   string
	// render returns the document for one value of the variable.
	render func(uri, value string) ([]byte, error)
	// values are the completion candidates of the variable.
	values []string
}

// Set is the provider's resources and templates.
type Set struct {
	static    []static
	byURI     map[string]int
	templates []template
}

// NewSet builds the resources. assets supplies the binary samples.
func NewSet(assets media.Assets) (*Set, error) {
	s := &Set{byURI: map[string]int{}}
	add := func(def *mcpv1.Resource, rc content.ResourceContents) error {
		b, err := json.Marshal([]content.ResourceContents{rc})
		if err != nil {
			return fmt.Errorf("encode resource %s: %w", def.GetUri(), err)
		}
		def.Size = int64(len(rc.Text))
		if rc.Blob != "" {
			def.Size = int64(len(assets.PNG))
		}
		s.byURI[def.GetUri()] = len(s.static)
		s.static = append(s.static, static{def: def, contents: b})
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
		newTemplate(&mcpv1.ResourceTemplate{
			UriTemplate: "everything://items/{id}", Name: "item", Title: "Item",
			Description: "An item of the everything provider, by identifier.", MimeType: "application/json",
		}, renderItem, []string{"1", "2", "3", "10", "11", "12", "42", "100"}),
		newTemplate(&mcpv1.ResourceTemplate{
			UriTemplate: "test://template/{id}/data", Name: "template-data", Title: "Template data",
			Description: "Data for an identifier (conformance fixture).", MimeType: "application/json",
		}, renderTemplateData, []string{"123", "124", "456"}),
	}
	return s, nil
}

func newTemplate(def *mcpv1.ResourceTemplate, render func(uri, value string) ([]byte, error), values []string) template {
	t := def.GetUriTemplate()
	open, end := strings.IndexByte(t, '{'), strings.IndexByte(t, '}')
	return template{def: def, prefix: t[:open], variable: t[open+1 : end], suffix: t[end+1:], render: render, values: values}
}

// match returns the variable's (decoded) value when uri instantiates the template.
func (t *template) match(uri string) (string, bool) {
	if len(uri) <= len(t.prefix)+len(t.suffix) || !strings.HasPrefix(uri, t.prefix) || !strings.HasSuffix(uri, t.suffix) {
		return "", false
	}
	raw := uri[len(t.prefix) : len(uri)-len(t.suffix)]
	if strings.ContainsAny(raw, "/?#") {
		return "", false
	}
	value, err := url.PathUnescape(raw)
	if err != nil || value == "" {
		return "", false
	}
	return value, true
}

// Resources lists the concrete resources. Callers must not modify them.
func (s *Set) Resources() []*mcpv1.Resource {
	out := make([]*mcpv1.Resource, len(s.static))
	for i := range s.static {
		out[i] = s.static[i].def
	}
	return out
}

// Templates lists the resource templates. Callers must not modify them.
func (s *Set) Templates() []*mcpv1.ResourceTemplate {
	out := make([]*mcpv1.ResourceTemplate, len(s.templates))
	for i := range s.templates {
		out[i] = s.templates[i].def
	}
	return out
}

// Read returns the contents of uri as a JSON array of resource contents.
func (s *Set) Read(uri string) ([]byte, error) {
	if i, ok := s.byURI[uri]; ok {
		return s.static[i].contents, nil
	}
	for i := range s.templates {
		if value, ok := s.templates[i].match(uri); ok {
			return s.templates[i].render(uri, value)
		}
	}
	return nil, fmt.Errorf("%w: %q", faults.ErrUnknownResource, uri)
}

// CompletionValues returns the candidates for a template variable.
func (s *Set) CompletionValues(uriTemplate, variable string) ([]string, error) {
	for i := range s.templates {
		t := &s.templates[i]
		if t.def.GetUriTemplate() != uriTemplate {
			continue
		}
		if t.variable != variable {
			return nil, nil
		}
		return t.values, nil
	}
	return nil, fmt.Errorf("%w: resource template %q", faults.ErrUnknownReference, uriTemplate)
}

type item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func renderItem(uri, id string) ([]byte, error) {
	return jsonContents(uri, item{ID: id, Name: "Item " + id})
}

type templateData struct {
	ID           string `json:"id"`
	TemplateTest bool   `json:"templateTest"`
	Data         string `json:"data"`
}

func renderTemplateData(uri, id string) ([]byte, error) {
	return jsonContents(uri, templateData{ID: id, TemplateTest: true, Data: "Data for ID: " + id})
}

// jsonContents encodes doc as the text of one application/json resource contents.
func jsonContents(uri string, doc any) ([]byte, error) {
	text, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", uri, err)
	}
	b, err := json.Marshal([]content.ResourceContents{{URI: uri, MimeType: "application/json", Text: string(text)}})
	if err != nil {
		return nil, fmt.Errorf("encode contents of %s: %w", uri, err)
	}
	return b, nil
}
