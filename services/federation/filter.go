package federation

import (
	"path"
	"strings"
)

// keeps reports whether name passes f: it matches an Include glob (or there are
// none) and no Exclude glob. Globs were checked by Validate.
func (f Filter) keeps(name string) bool {
	matches := func(globs []string) bool {
		for _, g := range globs {
			if ok, _ := path.Match(g, name); ok {
				return true
			}
		}
		return false
	}
	return (len(f.Include) == 0 || matches(f.Include)) && !matches(f.Exclude)
}

// prefixSeparator joins an upstream's prefix and a tool or prompt name.
const prefixSeparator = "__"

// exposed is the name the mesh sees for an upstream's tool or prompt.
func (u Upstream) exposed(name string) string {
	if u.Prefix == "" {
		return name
	}
	return u.Prefix + prefixSeparator + name
}

// upstreamName is the upstream's own name for an exposed one; false when name does
// not carry the upstream's prefix.
func (u Upstream) upstreamName(name string) (string, bool) {
	if u.Prefix == "" {
		return name, true
	}
	return strings.CutPrefix(name, u.Prefix+prefixSeparator)
}
