package dispatch

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
	"github.com/mcpmesh/mcpmesh/services/session/internal/vserver"
)

// Denial is the error of a request that the policy refused. It is not a JSON-RPC error:
// the service edge turns it into PermissionDenied with the reason, which the gateway
// answers with a step-up challenge (MissingScopes) or a bare "forbidden" (Denied).
type Denial struct {
	// Outcome is policy.MissingScopes or policy.Denied.
	Outcome policy.Outcome
	// Scopes, for MissingScopes, are every scope the capability needs.
	Scopes []string
}

func (e *Denial) Error() string {
	if e.Outcome == policy.MissingScopes {
		return "insufficient scope: needs " + strings.Join(e.Scopes, " ")
	}
	return "forbidden by policy"
}

// authorize is the one place where calls meet the policy: tools/call, resources/read,
// prompts/get, completion/complete and resources/subscribe, whatever the entry point
// (MCP over either generation, the REST API, the stdio bridge all reach the
// dispatcher). It runs before the name is looked up, with the provider when the name
// is known, so an unknown name and a refused one get the same answer whenever the
// rules decide them alike. args are the call's arguments as a JSON object, if any.
func (d *Dispatcher) authorize(ctx context.Context, req *Request, kind policy.Kind, name string, entry *catalogue.Entry, args []byte) error {
	c := policy.Capability{Kind: kind, Name: name}
	if entry != nil {
		c.Provider = entry.Route.Provider
	}
	req.audit = auditNote{capability: c, arguments: args}
	p := d.policy()
	// The virtual server's rules apply to what it selects; a name outside its
	// selection was made unknown by visible and is decided as unknown names are.
	v := d.view(ctx)
	if v != nil && (!v.Selects(kind, name) || v.Policy().Empty()) {
		v = nil
	}
	if p.Empty() && v == nil {
		return nil
	}
	who, _ := principal.FromContext(ctx)
	dec := p.Decide(who, c, args)
	if dec.Outcome == policy.Allowed && v != nil {
		dec = v.Policy().Decide(who, c, args)
		dec.Rule = "virtual_servers." + v.Name() + "." + dec.Rule
	}
	if dec.Outcome == policy.Allowed {
		return nil
	}
	req.audit.denied = &dec
	return &Denial{Outcome: dec.Outcome, Scopes: dec.Scopes}
}

// listable reports whether e appears in listings for the principal of ctx: what it
// may use, or may use with some arguments, and, through a virtual server v (nil for
// none), what v selects and its rules allow too.
func (d *Dispatcher) listable(p *policy.Policy, v *vserver.View, who *principal.Principal, kind policy.Kind) func(*catalogue.Entry) bool {
	return func(e *catalogue.Entry) bool {
		c := policy.Capability{Kind: kind, Name: e.Key, Provider: e.Route.Provider}
		if v != nil && !v.Selects(kind, e.Key) {
			return false
		}
		if o := p.DecideListing(who, c).Outcome; o != policy.Allowed && o != policy.Undecided {
			return false
		}
		if v == nil {
			return true
		}
		o := v.Policy().DecideListing(who, c).Outcome
		return o == policy.Allowed || o == policy.Undecided
	}
}

// policy returns the rules in force (they change on reload).
func (d *Dispatcher) policy() *policy.Policy {
	if d.currentPolicy == nil {
		return allowAll
	}
	if p := d.currentPolicy(); p != nil {
		return p
	}
	return allowAll
}

var allowAll = policy.Allow()

// entryIf is entry when the lookup found it, else nil.
func entryIf(entry *catalogue.Entry, ok bool) *catalogue.Entry {
	if !ok {
		return nil
	}
	return entry
}

// promptArguments are a prompt's (or a completion's context) arguments as the JSON
// object conditions see.
func promptArguments(args map[string]string) []byte {
	if len(args) == 0 {
		return nil
	}
	b, err := json.Marshal(args)
	if err != nil {
		return nil
	}
	return b
}
