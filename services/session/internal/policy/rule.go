package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// rule is a compiled Rule.
type rule struct {
	name string
	// names are the capabilities the rule covers.
	names  *Selection
	scopes []string
	// allow is the condition (nil without one); listing is the same condition built for
	// partial evaluation with the arguments unknown, only when it uses them.
	allow, listing cel.Program
}

func compileRule(env *cel.Env, section string, index int, rc Rule) (*rule, error) {
	r := &rule{name: rc.Name, scopes: rc.RequireScopes}
	if r.name == "" {
		r.name = fmt.Sprintf("rules[%d]", index)
	}
	at := fmt.Sprintf("%s.rules[%d]", section, index)
	if rc.Name != "" {
		at += " (" + rc.Name + ")"
	}
	var errs []error
	names, err := NewSelection(at, rc.Tools, rc.Resources, rc.Prompts)
	if err != nil {
		errs = append(errs, err)
	}
	r.names = names
	if len(rc.Tools)+len(rc.Resources)+len(rc.Prompts) == 0 {
		errs = append(errs, fmt.Errorf(`%s: names no tools, resources or prompts (use tools: ["*"] to cover every tool)`, at))
	}
	for _, s := range rc.RequireScopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			errs = append(errs, fmt.Errorf("%s.require_scopes: %q is not a scope token", at, s))
		}
	}
	if strings.TrimSpace(rc.Allow) != "" {
		if err := r.compileCondition(env, rc.Allow); err != nil {
			errs = append(errs, fmt.Errorf("%s.allow: %w", at, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// maxConditionCost bounds what a condition with comprehensions (all, exists, map,
// filter) may spend, in CEL's cost units (roughly one per operation and per element
// visited), so a condition over large arguments cannot stall a call. Without
// comprehensions the cost is bounded by the expression and the (size-limited) request,
// and cost tracking, which doubles the evaluation's allocations, is left off.
const maxConditionCost = 100_000

func (r *rule) compileCondition(env *cel.Env, expr string) error {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return iss.Err()
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return fmt.Errorf("must be a boolean expression, is %s", ast.OutputType())
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if len(celast.MatchDescendants(celast.NavigateAST(ast.NativeRep()), celast.KindMatcher(celast.ComprehensionKind))) > 0 {
		opts = append(opts, cel.CostLimit(maxConditionCost))
	}
	var err error
	r.allow, err = env.Program(ast, opts...)
	if err != nil {
		return err
	}
	if usesVariable(ast, varArguments) {
		opts[0] = cel.EvalOptions(cel.OptPartialEval)
		r.listing, err = env.Program(ast, opts...)
	}
	return err
}

// usesVariable reports whether a checked expression refers to the variable name.
func usesVariable(ast *cel.Ast, name string) bool {
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if ref.Name == name {
			return true
		}
	}
	return false
}

func (r *rule) matches(c Capability) bool { return r.names.Selects(c.Kind, c.Name) }

// eval runs the condition for a call; an evaluation error (a missing claim, a cost
// limit) denies.
func (r *rule) eval(in *input, args []byte) (pass, decided bool) {
	in.setArguments(args)
	out, _, err := r.allow.Eval(in)
	if err != nil {
		return false, true
	}
	return out == types.True, true
}

// evalListing runs the condition with the arguments unknown.
func (r *rule) evalListing(in *input) (pass, decided bool) {
	if r.listing == nil {
		out, _, err := r.allow.Eval(in)
		return err == nil && out == types.True, true
	}
	out, _, err := r.listing.Eval(in.partial())
	if types.IsUnknown(out) {
		return false, false
	}
	return err == nil && out == types.True, true
}
