package dispatch

import (
	"context"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/kit/virtualserver"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
	"github.com/mcpmesh/mcpmesh/services/session/internal/vserver"
)

// A request through a virtual server (/mcp/<name>, /v1/servers/<name>/...) sees its
// selection only: listings leave the rest out, and a call, read or get of anything
// else is answered exactly as for a name the catalogue lacks. The virtual server's own
// rules apply after auth.policy's.

// view is the virtual server of ctx's request; nil for the whole mesh.
func (d *Dispatcher) view(ctx context.Context) *vserver.View {
	name := virtualserver.FromContext(ctx)
	if name == "" {
		return nil
	}
	var set *vserver.Set
	if d.virtualServers != nil {
		set = d.virtualServers()
	}
	return set.View(name)
}

// visible filters a catalogue lookup of (kind, name), its result e and ok, through the
// request's virtual server: a capability outside its selection is not found.
func (d *Dispatcher) visible(ctx context.Context, kind policy.Kind, name string, e *catalogue.Entry, ok bool) (*catalogue.Entry, bool) {
	if v := d.view(ctx); v != nil && !v.Selects(kind, name) {
		return nil, false
	}
	return e, ok
}

// OwnerOf is the owner recorded for a session or task created under ctx: the
// principal's (principal.OwnerOf), scoped to the virtual server the request came
// through, so that a session created through /mcp/a is unknown on /mcp/b and /mcp.
// The NUL cannot occur in a digest or a name.
func OwnerOf(ctx context.Context) string {
	owner := principal.OwnerOf(ctx)
	if name := virtualserver.FromContext(ctx); name != "" {
		return owner + "\x00" + name
	}
	return owner
}
