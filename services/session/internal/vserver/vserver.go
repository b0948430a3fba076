// Package vserver compiles the virtual servers of the configuration: named selections
// of the catalogue's tools, resources and prompts, each with rules of its own that
// apply in addition to auth.policy. The dispatcher asks the View of a request's
// virtual server (kit/virtualserver) what it may show and call.
package vserver

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mcpmesh/mcpmesh/services/kit/virtualserver"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
)

// Config is one entry of virtual_servers.
type Config struct {
	// Name is the path segment: the virtual server is served at /mcp/<name>.
	Name string `koanf:"name"`
	// Description says what the selection is for (operators' documentation).
	Description string `koanf:"description"`
	// Tools, Resources and Prompts select by name pattern, as policy rules do: tool
	// names, resource URIs (URI templates in listings), prompt names. A kind left
	// empty shows nothing of that kind.
	Tools     []string `koanf:"tools"`
	Resources []string `koanf:"resources"`
	Prompts   []string `koanf:"prompts"`
	// Policy holds rules that apply in addition to auth.policy, for requests through
	// this virtual server only.
	Policy policy.Config `koanf:"policy"`
}

// View is one compiled virtual server. It is immutable and safe for concurrent use.
type View struct {
	name      string
	selection *policy.Selection
	policy    *policy.Policy
}

// Name is the virtual server's name.
func (v *View) Name() string { return v.name }

// Selects reports whether the capability is part of the virtual server.
func (v *View) Selects(kind policy.Kind, name string) bool { return v.selection.Selects(kind, name) }

// Policy is the virtual server's own rules.
func (v *View) Policy() *policy.Policy { return v.policy }

// nothing is the view of a name this service does not know (a gateway configured with
// a virtual server the session service is not, or one removed by a reload): it
// selects nothing, so such a request sees an empty mesh instead of the whole one.
var nothing = &View{policy: policy.Allow()}

// Set is every configured virtual server.
type Set struct {
	views map[string]*View
	names []string
}

// New compiles cfgs. A problem names its entry and key; every problem is reported.
func New(cfgs []Config) (*Set, error) {
	s := &Set{views: make(map[string]*View, len(cfgs))}
	var errs []error
	for i, c := range cfgs {
		at := fmt.Sprintf("virtual_servers[%d]", i)
		if c.Name != "" {
			at += " (" + c.Name + ")"
		}
		if err := virtualserver.CheckName(c.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s.name: %w", at, err))
		} else if _, dup := s.views[c.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is the name of an earlier virtual server", at, c.Name))
		}
		if len(c.Tools)+len(c.Resources)+len(c.Prompts) == 0 {
			errs = append(errs, fmt.Errorf(`%s: selects no tools, resources or prompts (use tools: ["*"] to show every tool)`, at))
		}
		sel, err := policy.NewSelection(at, c.Tools, c.Resources, c.Prompts)
		if err != nil {
			errs = append(errs, err)
		}
		pol, err := policy.NewAt(at+".policy", c.Policy)
		if err != nil {
			errs = append(errs, err)
		}
		if _, dup := s.views[c.Name]; c.Name != "" && !dup && sel != nil && pol != nil {
			s.views[c.Name] = &View{name: c.Name, selection: sel, policy: pol}
			s.names = append(s.names, c.Name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// View returns the view of the virtual server name: nil for "" (the whole mesh, /mcp),
// a view that selects nothing for a name that is not configured.
func (s *Set) View(name string) *View {
	if name == "" {
		return nil
	}
	if s != nil {
		if v, ok := s.views[name]; ok {
			return v
		}
	}
	return nothing
}

// Names are the configured names, in configuration order.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.names)
}
