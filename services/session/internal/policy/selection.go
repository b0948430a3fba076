package policy

import (
	"errors"
	"fmt"
)

// Selection is a set of capabilities named by patterns, as rules name them ('*'
// matches any run of characters): what a virtual server shows. A kind without
// patterns selects nothing of that kind. It is immutable and safe for concurrent use.
type Selection struct {
	tools, resources, prompts []glob
}

// NewSelection compiles the patterns of each kind; at is the configuration key that
// problems name. Every problem is reported.
func NewSelection(at string, tools, resources, prompts []string) (*Selection, error) {
	var errs []error
	globs := func(key string, patterns []string) []glob {
		var out []glob
		for _, pat := range patterns {
			g, err := compileGlob(pat)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: %w", at, key, err))
				continue
			}
			out = append(out, g)
		}
		return out
	}
	s := &Selection{tools: globs("tools", tools), resources: globs("resources", resources), prompts: globs("prompts", prompts)}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Selects reports whether c is in the selection. A nil Selection selects nothing.
func (s *Selection) Selects(kind Kind, name string) bool {
	if s == nil {
		return false
	}
	var globs []glob
	switch kind {
	case KindTool:
		globs = s.tools
	case KindResource:
		globs = s.resources
	case KindPrompt:
		globs = s.prompts
	}
	for _, g := range globs {
		if g.match(name) {
			return true
		}
	}
	return false
}
