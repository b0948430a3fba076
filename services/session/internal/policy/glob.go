package policy

import (
	"fmt"
	"strings"
)

// glob is a name pattern of a rule: '*' matches any run of characters (including '/',
// so "file:///docs/*" covers a whole tree of resource URIs) and every other character
// matches itself. Names in the catalogue are free text, so there are no classes or
// escapes to get wrong.
type glob struct {
	pattern string
	// parts are the literal pieces between the stars.
	parts []string
}

func compileGlob(pattern string) (glob, error) {
	if pattern == "" {
		return glob{}, fmt.Errorf("empty pattern")
	}
	return glob{pattern: pattern, parts: strings.Split(pattern, "*")}, nil
}

// match reports whether name matches the whole pattern.
func (g glob) match(name string) bool {
	if len(g.parts) == 1 {
		return name == g.pattern
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(name) < len(first)+len(last) || !strings.HasPrefix(name, first) || !strings.HasSuffix(name, last) {
		return false
	}
	rest := name[len(first) : len(name)-len(last)]
	for _, p := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}
