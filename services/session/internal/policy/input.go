package policy

import (
	"encoding/json"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// The variables of conditions.
const (
	varPrincipal  = "principal"
	varCapability = "capability"
	varArguments  = "arguments"
)

func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(varPrincipal, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(varCapability, cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable(varArguments, cel.MapType(cel.StringType, cel.DynType)),
		// principal.claims.?department.orValue("") for claims that may be absent.
		cel.OptionalTypes(),
	)
}

// input is the activation of one decision: it builds each variable only when a
// condition asks for it, so a rule set without conditions costs no allocation.
type input struct {
	who        *principal.Principal
	capability Capability

	principalVal  map[string]any
	capabilityVal map[string]string
	argsRaw       []byte
	argsVal       map[string]any
	argsParsed    bool
}

var _ interpreter.Activation = (*input)(nil)

func (in *input) ResolveName(name string) (any, bool) {
	switch name {
	case varPrincipal:
		if in.principalVal == nil {
			in.principalVal = principalValue(in.who)
		}
		return in.principalVal, true
	case varCapability:
		if in.capabilityVal == nil {
			in.capabilityVal = map[string]string{"name": in.capability.Name, "kind": string(in.capability.Kind), "provider": in.capability.Provider}
		}
		return in.capabilityVal, true
	case varArguments:
		if !in.argsParsed {
			in.argsParsed = true
			in.argsVal = map[string]any{}
			if len(in.argsRaw) > 0 {
				// Arguments that are not an object stay empty: conditions over them fail closed.
				_ = json.Unmarshal(in.argsRaw, &in.argsVal)
			}
		}
		return in.argsVal, true
	}
	return nil, false
}

func (in *input) Parent() interpreter.Activation { return nil }

// setArguments gives the call's arguments; they are parsed on first use.
func (in *input) setArguments(args []byte) {
	if in.argsParsed && string(args) == string(in.argsRaw) {
		return
	}
	in.argsRaw, in.argsParsed, in.argsVal = args, false, nil
}

// partial is the activation of listings: arguments are unknown.
func (in *input) partial() interpreter.PartialActivation {
	return listingActivation{in}
}

type listingActivation struct{ *input }

func (a listingActivation) ResolveName(name string) (any, bool) {
	if name == varArguments {
		return nil, false
	}
	return a.input.ResolveName(name)
}

// AsPartialActivation is how the interpreter recognises a partial activation.
func (a listingActivation) AsPartialActivation() (interpreter.PartialActivation, bool) {
	return a, true
}

func (a listingActivation) UnknownAttributePatterns() []*interpreter.AttributePattern {
	return unknownArguments
}

var unknownArguments = []*interpreter.AttributePattern{interpreter.NewAttributePattern(varArguments)}

func principalValue(p *principal.Principal) map[string]any {
	scopes := p.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	claims := p.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	return map[string]any{
		"subject":   p.Subject,
		"issuer":    p.Issuer,
		"client_id": p.ClientID,
		"scopes":    scopes,
		"claims":    claims,
		"method":    string(p.Method),
	}
}
