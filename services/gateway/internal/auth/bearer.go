package auth

import (
	"net/http"
	"strings"
)

// APIKeyPrefix starts every API key, so a key is told apart from a JWT or an opaque
// OAuth token without a lookup.
const APIKeyPrefix = "mcpm_"

// credential is what a request presents: a bearer token, or the reason it has none
// that can be used.
type credential struct {
	token   string
	refusal *Refusal // nil when token is set
}

// bearerFrom reads the request's bearer token. It refuses a token in the query string
// (the MCP authorization specification forbids it), two Authorization headers (which
// one would count is ambiguous between proxies), a scheme other than Bearer, a token
// that is not RFC 6750's b64token, and one larger than maxBytes.
func bearerFrom(r *http.Request, maxBytes int) credential {
	if q := r.URL.RawQuery; q != "" && (r.URL.Query().Has("access_token") || r.URL.Query().Has("api_key")) {
		return credential{refusal: &Refusal{Status: http.StatusBadRequest, Code: codeInvalidRequest,
			Description: "a token in the query string is refused: send it in the Authorization header"}}
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return credential{refusal: &Refusal{Status: http.StatusUnauthorized, Description: "authentication required: send Authorization: Bearer <token>"}}
	case 1:
	default:
		return credential{refusal: &Refusal{Status: http.StatusBadRequest, Code: codeInvalidRequest,
			Description: "more than one Authorization header: send exactly one"}}
	}
	return parseAuthorization(values[0], maxBytes)
}

// parseAuthorization reads one Authorization header value.
func parseAuthorization(v string, maxBytes int) credential {
	scheme, token, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return credential{refusal: &Refusal{Status: http.StatusUnauthorized, Description: "unsupported authorization scheme: send Authorization: Bearer <token>"}}
	}
	token = strings.TrimLeft(token, " ")
	if len(token) > maxBytes {
		return credential{refusal: &Refusal{Status: http.StatusUnauthorized, Code: codeInvalidToken,
			Description: "the token is larger than this server accepts"}}
	}
	if !isB64Token(token) {
		return credential{refusal: &Refusal{Status: http.StatusBadRequest, Code: codeInvalidRequest,
			Description: "the bearer token is empty or has characters a token cannot have"}}
	}
	return credential{token: token}
}

// isB64Token reports whether s matches RFC 6750's b64token: 1*( ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// tokenChars marks the bytes of RFC 6750's b64token (before the '=' padding): a table,
// because this check runs on every byte of every request's token.
var tokenChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", byte(c)) >= 0
	}
	return t
}()

func isTokenChar(c byte) bool { return tokenChars[c] }
