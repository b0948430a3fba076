package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// RFC 6750 error codes.
const (
	codeInvalidRequest    = "invalid_request"
	codeInvalidToken      = "invalid_token"
	codeInsufficientScope = "insufficient_scope"
)

// Refusal is a request the gateway does not let through: its HTTP status, the RFC 6750
// error code (empty when the request carried no credentials at all) and a description
// that tells the client what to fix without revealing how the checks work inside.
type Refusal struct {
	Status      int
	Code        string
	Description string
	// Scopes, for insufficient_scope: every scope the operation needs.
	Scopes []string
	// RetryAfter, in seconds, for 503 (the authorization server could not be reached).
	RetryAfter int
}

func (r *Refusal) Error() string { return fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Description) }

// invalidToken is the refusal of a token that failed a check.
func invalidToken(format string, args ...any) *Refusal {
	return &Refusal{Status: http.StatusUnauthorized, Code: codeInvalidToken, Description: fmt.Sprintf(format, args...)}
}

// ErrUnavailable marks a verification that could not be made (the authorization server
// or the key store did not answer): the client should retry, not re-authenticate.
var ErrUnavailable = errors.New("authentication temporarily unavailable")

// asRefusal turns a verifier's error into the refusal to answer with.
func asRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	if errors.Is(err, ErrUnavailable) {
		return &Refusal{Status: http.StatusServiceUnavailable, Description: "the credential cannot be checked right now: retry shortly", RetryAfter: 5}
	}
	return invalidToken("the token is not valid")
}

// Challenge builds the WWW-Authenticate header of refusals.
type Challenge struct {
	// ResourceMetadata is the URL of the RFC 9728 metadata; empty when OAuth is off.
	ResourceMetadata string
	// Scopes are those any access needs (auth.oauth.scopes).
	Scopes []string
}

// header is the WWW-Authenticate value for r.
func (c Challenge) header(r *Refusal) string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	param := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quotable(value))
		b.WriteByte('"')
		sep = ", "
	}
	if c.ResourceMetadata != "" {
		param("resource_metadata", c.ResourceMetadata)
	} else {
		param("realm", "mcpmesh")
	}
	scopes := c.Scopes
	if r.Code == codeInsufficientScope {
		scopes = r.Scopes
	}
	if len(scopes) > 0 {
		param("scope", strings.Join(scopes, " "))
	}
	if r.Code != "" {
		param("error", r.Code)
		param("error_description", r.Description)
	}
	return b.String()
}

// quotable keeps the characters RFC 6750 allows in a quoted error_description
// (printable ASCII without '"' and '\').
func quotable(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return '?'
		}
		return c
	}, s)
}

// Write answers the request with r: the status, the challenge (for 401 and 403) and a
// small JSON body with the same error and description.
func (c Challenge) Write(w http.ResponseWriter, r *Refusal) {
	h := w.Header()
	if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Code != "" {
		h.Set("WWW-Authenticate", c.header(r))
	}
	if r.RetryAfter > 0 {
		h.Set("Retry-After", fmt.Sprint(r.RetryAfter))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(r.Status)
	code := r.Code
	if code == "" {
		code = "unauthorized"
		if r.Status == http.StatusServiceUnavailable {
			code = "temporarily_unavailable"
		}
	}
	body := struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, r.Description}
	_ = json.NewEncoder(w).Encode(body)
}
