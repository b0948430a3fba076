// Package policy decides which principal may use which tool, resource and prompt: the
// rules of auth.policy, compiled once (CEL programs included) and evaluated on every
// call and listing by the session service's dispatcher.
//
// Semantics. Every rule whose patterns match a capability applies, and all of them
// must pass: first their required scopes (a principal short of any gets Outcome
// MissingScopes with the union of the scopes the matching rules require, so one
// step-up asks for all of them), then their conditions (any false one, or one that
// fails to evaluate, gives Denied: fail closed). The order of rules does not matter and
// adding a rule can only restrict. A capability that no rule matches gets the default.
package policy

import (
	"errors"
	"fmt"
	"slices"

	"github.com/google/cel-go/cel"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// Kind is what a capability is.
type Kind string

// Kinds of capability; they are also the values of capability.kind in conditions.
const (
	KindTool     Kind = "tool"
	KindResource Kind = "resource"
	KindPrompt   Kind = "prompt"
)

// Capability is what a request wants to use.
type Capability struct {
	Kind Kind
	// Name is the tool or prompt name, or the resource URI (the URI template for a
	// template in a listing).
	Name string
	// Provider is the provider that serves it; empty when the name is unknown, which
	// is decided like a known one so that a denial tells nothing about what exists.
	Provider string
}

// Outcome is the result of a decision.
type Outcome uint8

const (
	// Allowed: go ahead.
	Allowed Outcome = iota
	// MissingScopes: the principal lacks a scope a matching rule requires.
	MissingScopes
	// Denied: a condition is false (or failed), or the default denies.
	Denied
	// Undecided: only at list time, a condition needs the call's arguments.
	Undecided
)

func (o Outcome) String() string {
	switch o {
	case Allowed:
		return "allowed"
	case MissingScopes:
		return "insufficient_scope"
	case Denied:
		return "denied"
	default:
		return "undecided"
	}
}

// Decision says whether a request may go ahead, and why not.
type Decision struct {
	Outcome Outcome
	// Scopes, with MissingScopes, are every scope the matching rules require.
	Scopes []string
	// Rule names the rule that decided ("default" when none matched), for audit lines
	// and logs only: clients are never told.
	Rule string
}

// Policy is a compiled rule set. It is immutable and safe for concurrent use.
type Policy struct {
	rules        []*rule
	defaultAllow bool
	env          *cel.Env
}

// ruleDefault names the default in decisions.
const ruleDefault = "default"

// New compiles cfg, the section auth.policy. A problem names its rule and key; every
// problem is reported.
func New(cfg Config) (*Policy, error) { return NewAt("auth.policy", cfg) }

// NewAt compiles cfg found at the configuration key at (a virtual server's policy has
// its own), which problems name.
func NewAt(at string, cfg Config) (*Policy, error) {
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	p := &Policy{env: env, defaultAllow: len(cfg.Rules) == 0}
	var errs []error
	switch cfg.Default {
	case "":
	case DefaultAllow:
		p.defaultAllow = true
	case DefaultDeny:
		p.defaultAllow = false
	default:
		errs = append(errs, fmt.Errorf("%s.default: %q is not allow or deny", at, cfg.Default))
	}
	for i, rc := range cfg.Rules {
		r, err := compileRule(env, at, i, rc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.rules = append(p.rules, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Allow returns a policy without rules that allows everything.
func Allow() *Policy {
	p, err := New(Config{})
	if err != nil {
		panic(err) // the empty configuration always compiles
	}
	return p
}

// Empty reports whether the policy has no rules and allows everything, so that callers
// can skip it.
func (p *Policy) Empty() bool { return len(p.rules) == 0 && p.defaultAllow }

// Decide decides a call of c by who, with args the call's arguments as a JSON object
// (nil or empty for none). A nil who is the anonymous principal.
func (p *Policy) Decide(who *principal.Principal, c Capability, args []byte) Decision {
	return p.decide(who, c, func(r *rule, in *input) (bool, bool) { return r.eval(in, args) })
}

// DecideListing decides whether c appears in who's listings. Conditions that use the
// arguments cannot be decided without a call; they count as passed unless the rest of
// the expression already fails (the call decides then).
func (p *Policy) DecideListing(who *principal.Principal, c Capability) Decision {
	return p.decide(who, c, func(r *rule, in *input) (bool, bool) { return r.evalListing(in) })
}

func (p *Policy) decide(who *principal.Principal, c Capability, eval func(*rule, *input) (pass, decided bool)) Decision {
	if who == nil {
		who = principal.Anonymous
	}
	// Matching is repeated rather than collected: a decision allocates nothing unless
	// it denies or a condition runs.
	var last *rule
	short := ""
	for _, r := range p.rules {
		if !r.matches(c) {
			continue
		}
		last = r
		if short == "" && len(who.MissingScopes(r.scopes)) > 0 {
			short = r.name
		}
	}
	if last == nil {
		if p.defaultAllow {
			return Decision{Outcome: Allowed, Rule: ruleDefault}
		}
		return Decision{Outcome: Denied, Rule: ruleDefault}
	}
	if short != "" {
		var scopes []string
		for _, r := range p.rules {
			if r.matches(c) {
				for _, s := range r.scopes {
					if !slices.Contains(scopes, s) {
						scopes = append(scopes, s)
					}
				}
			}
		}
		return Decision{Outcome: MissingScopes, Scopes: scopes, Rule: short}
	}
	var in *input // built by the first condition
	undecided := ""
	for _, r := range p.rules {
		if r.allow == nil || !r.matches(c) {
			continue
		}
		if in == nil {
			in = &input{who: who, capability: c}
		}
		pass, decided := eval(r, in)
		switch {
		case !decided:
			undecided = r.name
		case !pass:
			return Decision{Outcome: Denied, Rule: r.name}
		}
	}
	if undecided != "" {
		return Decision{Outcome: Undecided, Rule: undecided}
	}
	return Decision{Outcome: Allowed, Rule: last.name}
}
