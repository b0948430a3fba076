package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

// ReadFunc reads a resource: the contents of uri (usually one entry).
type ReadFunc func(ctx context.Context, uri string) ([]content.ResourceContents, error)

// TemplateReadFunc reads one instance of a resource template: vars holds the decoded
// value of each variable of the template.
type TemplateReadFunc func(ctx context.Context, uri string, vars map[string]string) ([]content.ResourceContents, error)

// CompleteFunc offers the candidate values of one argument of a prompt or variable of
// a template (values is the part typed so far; args the arguments already resolved).
// The mesh's client sees those that start with value, up to MaxCompletions; return nil
// for an argument without candidates.
type CompleteFunc func(ctx context.Context, argument, value string, args map[string]string) ([]string, error)

// resourceFeature is a concrete resource with its reader.
type resourceFeature struct {
	def  *mcpv1.Resource
	read ReadFunc
	err  error
}

func (r *resourceFeature) addTo(c *catalogue) error {
	if r.err != nil {
		return r.err
	}
	return c.addResource(r)
}

// ResourceOption sets optional fields of a resource or template entry.
type ResourceOption func(*resourceFields)

type resourceFields struct {
	title, description, mimeType string
	complete                     CompleteFunc
}

// Described sets the description.
func Described(description string) ResourceOption {
	return func(f *resourceFields) { f.description = description }
}

// Titled sets the human-readable title.
func Titled(title string) ResourceOption { return func(f *resourceFields) { f.title = title } }

// MimeType sets the MIME type of the contents.
func MimeType(mimeType string) ResourceOption {
	return func(f *resourceFields) { f.mimeType = mimeType }
}

// CompletedBy offers completions for a template's variables (or a prompt's arguments).
func CompletedBy(fn CompleteFunc) ResourceOption {
	return func(f *resourceFields) { f.complete = fn }
}

func applyResourceOptions(opts []ResourceOption) resourceFields {
	var f resourceFields
	for _, o := range opts {
		o(&f)
	}
	return f
}

// Resource offers a concrete resource at uri.
func Resource(uri, name string, read ReadFunc, opts ...ResourceOption) Feature {
	f := applyResourceOptions(opts)
	return RawResource(&mcpv1.Resource{Uri: uri, Name: name, Title: f.title, Description: f.description, MimeType: f.mimeType}, read)
}

// RawResource offers a resource from its catalogue entry.
func RawResource(def *mcpv1.Resource, read ReadFunc) Feature {
	r := &resourceFeature{def: def, read: read}
	if _, err := url.Parse(def.GetUri()); err != nil || def.GetUri() == "" || def.GetName() == "" || read == nil {
		r.err = fmt.Errorf("resource %q: a valid URI, a name and a reader are required", def.GetUri())
	}
	return r
}

// templateFeature is a resource template with its reader and completions.
type templateFeature struct {
	def      *mcpv1.ResourceTemplate
	pattern  uriTemplate
	read     TemplateReadFunc
	complete CompleteFunc
	err      error
}

func (t *templateFeature) addTo(c *catalogue) error {
	if t.err != nil {
		return t.err
	}
	return c.addTemplate(t)
}

// ResourceTemplate offers the resources that match an RFC 6570 level 1 URI template
// such as "notes://{folder}/{id}": each variable matches one non-empty path segment.
func ResourceTemplate(uriTemplate, name string, read TemplateReadFunc, opts ...ResourceOption) Feature {
	f := applyResourceOptions(opts)
	return RawResourceTemplate(&mcpv1.ResourceTemplate{
		UriTemplate: uriTemplate, Name: name, Title: f.title, Description: f.description, MimeType: f.mimeType,
	}, read, f.complete)
}

// RawResourceTemplate offers a resource template from its catalogue entry; complete
// may be nil.
func RawResourceTemplate(def *mcpv1.ResourceTemplate, read TemplateReadFunc, complete CompleteFunc) Feature {
	t := &templateFeature{def: def, read: read, complete: complete}
	var err error
	if t.pattern, err = parseURITemplate(def.GetUriTemplate()); err != nil {
		t.err = fmt.Errorf("resource template %q: %w", def.GetUriTemplate(), err)
	} else if def.GetName() == "" || read == nil {
		t.err = fmt.Errorf("resource template %q: a name and a reader are required", def.GetUriTemplate())
	}
	return t
}

// uriTemplate is a parsed level 1 template: literals[0] var[0] literals[1] ... var[n-1] literals[n].
type uriTemplate struct {
	literals []string
	vars     []string
}

func parseURITemplate(s string) (uriTemplate, error) {
	var t uriTemplate
	rest := s
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return uriTemplate{}, errors.New("unbalanced '}'")
			}
			t.literals = append(t.literals, rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return uriTemplate{}, errors.New("unbalanced '{'")
		}
		name := rest[open+1 : open+end]
		if name == "" || strings.ContainsAny(name, "{+#./;?&=,!@|*:") {
			return uriTemplate{}, fmt.Errorf("variable %q: only simple {name} variables are supported", name)
		}
		if len(t.vars) > 0 && open == 0 {
			return uriTemplate{}, errors.New("two variables need a literal between them")
		}
		t.literals = append(t.literals, rest[:open])
		t.vars = append(t.vars, name)
		rest = rest[open+end+1:]
	}
	if len(t.vars) == 0 {
		return uriTemplate{}, errors.New("no variable: offer a Resource instead")
	}
	return t, nil
}

// match returns the decoded variables when uri instantiates the template. A value is
// one non-empty segment: it holds no '/', '?' or '#'.
func (t uriTemplate) match(uri string) (map[string]string, bool) {
	if !strings.HasPrefix(uri, t.literals[0]) {
		return nil, false
	}
	rest := uri[len(t.literals[0]):]
	vars := make(map[string]string, len(t.vars))
	for i, name := range t.vars {
		next := t.literals[i+1]
		var raw string
		if next == "" { // the last variable runs to the end
			raw, rest = rest, ""
		} else {
			j := strings.Index(rest, next)
			if j < 0 {
				return nil, false
			}
			raw, rest = rest[:j], rest[j+len(next):]
		}
		if raw == "" || strings.ContainsAny(raw, "/?#") {
			return nil, false
		}
		value, err := url.PathUnescape(raw)
		if err != nil {
			return nil, false
		}
		vars[name] = value
	}
	if rest != "" {
		return nil, false
	}
	return vars, true
}

// TextContents returns the contents of a text resource.
func TextContents(uri, mimeType, text string) []content.ResourceContents {
	return []content.ResourceContents{{URI: uri, MimeType: mimeType, Text: text}}
}

// JSONContents returns the contents of an application/json resource holding doc.
func JSONContents(uri string, doc any) ([]content.ResourceContents, error) {
	text, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", uri, err)
	}
	return TextContents(uri, "application/json", string(text)), nil
}
