package catalogue

import "strings"

// uriTemplate matches URIs against an RFC 6570 template of the simple kinds that
// resource templates use: literal text with {var} (level 1, no '/') and {+var}
// (reserved expansion, '/' allowed) expressions. Other operators are not matched.
type uriTemplate struct {
	// parts alternate literal, expression, literal, ...; parts[0] is a literal.
	literals []string
	// reserved[i] tells whether the expression after literals[i] is {+var}.
	reserved []bool
}

// parseTemplate compiles t, or returns nil when t uses syntax it cannot match.
func parseTemplate(t string) *uriTemplate {
	u := &uriTemplate{}
	for {
		open := strings.IndexByte(t, '{')
		if open < 0 {
			if strings.IndexByte(t, '}') >= 0 {
				return nil
			}
			u.literals = append(u.literals, t)
			return u
		}
		lit := t[:open]
		if strings.IndexByte(lit, '}') >= 0 {
			return nil
		}
		end := strings.IndexByte(t[open:], '}')
		if end < 0 {
			return nil
		}
		expr := t[open+1 : open+end]
		reserved := strings.HasPrefix(expr, "+")
		name := strings.TrimPrefix(expr, "+")
		if name == "" || strings.ContainsAny(name, "+#./;?&=,!@|*:{") {
			return nil
		}
		// Two expressions in a row cannot be split unambiguously.
		if len(u.literals) > 0 && lit == "" {
			return nil
		}
		u.literals = append(u.literals, lit)
		u.reserved = append(u.reserved, reserved)
		t = t[open+end+1:]
	}
}

// match reports whether uri is an expansion of the template. Each expression takes
// the shortest non-empty text up to the next literal.
func (u *uriTemplate) match(uri string) bool {
	rest, ok := strings.CutPrefix(uri, u.literals[0])
	if !ok {
		return false
	}
	for i, reserved := range u.reserved {
		next := u.literals[i+1]
		var value string
		if i+1 == len(u.reserved) && next == "" {
			value, rest = rest, ""
		} else {
			at := strings.Index(rest, next)
			if at < 0 {
				return false
			}
			if i+1 == len(u.reserved) {
				// The last literal must end the URI.
				if !strings.HasSuffix(rest, next) {
					return false
				}
				at = len(rest) - len(next)
			}
			value, rest = rest[:at], rest[at+len(next):]
		}
		if value == "" || (!reserved && strings.ContainsAny(value, "/?#")) {
			return false
		}
	}
	return rest == ""
}
