package provider

import (
	"context"
	"fmt"
	"slices"
	"sync"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

// Feature is one thing a provider offers: a tool, resource, resource template or
// prompt, built by Tool, RawTool, Resource, ResourceTemplate, Prompt and their Raw forms.
type Feature interface {
	addTo(c *catalogue) error
}

// catalogue holds the features by name, in the order they were added. It is safe for
// concurrent use: features may come and go while calls run.
type catalogue struct {
	mu        sync.RWMutex
	tools     []*toolFeature
	resources []*resourceFeature
	templates []*templateFeature
	prompts   []*promptFeature
}

func indexOf[T any](list []T, match func(T) bool) int { return slices.IndexFunc(list, match) }

func (c *catalogue) addTool(t *toolFeature) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if indexOf(c.tools, func(o *toolFeature) bool { return o.def.GetName() == t.def.GetName() }) >= 0 {
		return fmt.Errorf("tool %q offered twice", t.def.GetName())
	}
	c.tools = append(c.tools, t)
	return nil
}

func (c *catalogue) addResource(r *resourceFeature) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if indexOf(c.resources, func(o *resourceFeature) bool { return o.def.GetUri() == r.def.GetUri() }) >= 0 {
		return fmt.Errorf("resource %q offered twice", r.def.GetUri())
	}
	c.resources = append(c.resources, r)
	return nil
}

func (c *catalogue) addTemplate(t *templateFeature) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if indexOf(c.templates, func(o *templateFeature) bool { return o.def.GetUriTemplate() == t.def.GetUriTemplate() }) >= 0 {
		return fmt.Errorf("resource template %q offered twice", t.def.GetUriTemplate())
	}
	c.templates = append(c.templates, t)
	return nil
}

func (c *catalogue) addPrompt(p *promptFeature) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if indexOf(c.prompts, func(o *promptFeature) bool { return o.def.GetName() == p.def.GetName() }) >= 0 {
		return fmt.Errorf("prompt %q offered twice", p.def.GetName())
	}
	c.prompts = append(c.prompts, p)
	return nil
}

func (c *catalogue) tool(name string) (*toolFeature, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := indexOf(c.tools, func(t *toolFeature) bool { return t.def.GetName() == name })
	if i < 0 {
		return nil, false
	}
	return c.tools[i], true
}

func (c *catalogue) prompt(name string) (*promptFeature, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := indexOf(c.prompts, func(p *promptFeature) bool { return p.def.GetName() == name })
	if i < 0 {
		return nil, false
	}
	return c.prompts[i], true
}

// template finds the template by its URI template (for completions).
func (c *catalogue) template(uriTemplate string) (*templateFeature, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := indexOf(c.templates, func(t *templateFeature) bool { return t.def.GetUriTemplate() == uriTemplate })
	if i < 0 {
		return nil, false
	}
	return c.templates[i], true
}

// reader finds what reads uri: the concrete resource, else the first template that
// matches, with its variables.
func (c *catalogue) reader(uri string) (ReadFunc, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if i := indexOf(c.resources, func(r *resourceFeature) bool { return r.def.GetUri() == uri }); i >= 0 {
		return c.resources[i].read, true
	}
	for _, t := range c.templates {
		if vars, ok := t.pattern.match(uri); ok {
			read := t.read
			return func(ctx context.Context, uri string) ([]content.ResourceContents, error) { return read(ctx, uri, vars) }, true
		}
	}
	return nil, false
}

// removeTool and removePrompt take an entry out; false when it was not there.
func (c *catalogue) removeTool(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.tools)
	c.tools = slices.DeleteFunc(c.tools, func(t *toolFeature) bool { return t.def.GetName() == name })
	return len(c.tools) < n
}

func (c *catalogue) removePrompt(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.prompts)
	c.prompts = slices.DeleteFunc(c.prompts, func(p *promptFeature) bool { return p.def.GetName() == name })
	return len(c.prompts) < n
}

func (c *catalogue) removeResource(uri string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.resources)
	c.resources = slices.DeleteFunc(c.resources, func(r *resourceFeature) bool { return r.def.GetUri() == uri })
	return len(c.resources) < n
}

// snapshot returns the catalogue entries in order.
func (c *catalogue) snapshot() *mcpv1.Catalogue {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := &mcpv1.Catalogue{}
	for _, t := range c.tools {
		out.Tools = append(out.Tools, t.def)
	}
	for _, r := range c.resources {
		out.Resources = append(out.Resources, r.def)
	}
	for _, t := range c.templates {
		out.ResourceTemplates = append(out.ResourceTemplates, t.def)
	}
	for _, p := range c.prompts {
		out.Prompts = append(out.Prompts, p.def)
	}
	return out
}
