package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// Verifier turns a bearer credential into a principal. Its errors are *Refusal (the
// credential is bad), wrap ErrUnavailable (it could not be checked) or are internal.
type Verifier interface {
	Verify(ctx context.Context, token string) (*principal.Principal, error)
}

// Settings configures an Authenticator.
type Settings struct {
	Mode Mode
	// OAuth checks bearer tokens; required when Mode.OAuth.
	OAuth Verifier
	// APIKeys checks API keys (tokens that start with APIKeyPrefix); required when Mode.APIKey.
	APIKeys Verifier
	// Challenge builds the WWW-Authenticate header of refusals.
	Challenge Challenge
	// MaxTokenBytes bounds a bearer token; larger ones are refused unread.
	MaxTokenBytes int
	Logger        *slog.Logger
}

// Authenticator puts the caller's principal in every request's context, or refuses it.
type Authenticator struct {
	s Settings
}

// New checks s and returns an Authenticator.
func New(s Settings) (*Authenticator, error) {
	if s.Mode.OAuth && s.OAuth == nil {
		return nil, errors.New("auth: mode oauth without a token verifier")
	}
	if s.Mode.APIKey && s.APIKeys == nil {
		return nil, errors.New("auth: mode api_key without a key store")
	}
	if s.MaxTokenBytes <= 0 {
		s.MaxTokenBytes = 8 << 10
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return &Authenticator{s: s}, nil
}

// Challenge is how refusals are answered (also by the step-up mapping of gRPC denials).
func (a *Authenticator) Challenge() Challenge { return a.s.Challenge }

// Wrap authenticates every request before next sees it. Without authentication (mode
// none, or not configured on loopback) every request acts for principal.Anonymous.
func (a *Authenticator) Wrap(next http.Handler) http.Handler {
	if a.s.Mode.None() {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(principal.NewContext(r.Context(), principal.Anonymous)))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, refusal := a.Authenticate(r)
		if refusal != nil {
			a.s.Challenge.Write(w, refusal)
			return
		}
		next.ServeHTTP(w, r.WithContext(principal.NewContext(r.Context(), p)))
	})
}

// Authenticate returns the principal of r, or why it is refused.
func (a *Authenticator) Authenticate(r *http.Request) (*principal.Principal, *Refusal) {
	cred := bearerFrom(r, a.s.MaxTokenBytes)
	if cred.refusal != nil {
		return nil, cred.refusal
	}
	var v Verifier
	switch isKey := strings.HasPrefix(cred.token, APIKeyPrefix); {
	case isKey && a.s.Mode.APIKey:
		v = a.s.APIKeys
	case isKey:
		return nil, invalidToken("API keys are not accepted here: send an OAuth access token")
	case a.s.Mode.OAuth:
		v = a.s.OAuth
	default:
		return nil, invalidToken("only API keys (%s...) are accepted here", APIKeyPrefix)
	}
	p, err := v.Verify(r.Context(), cred.token)
	if err != nil {
		refusal := asRefusal(err)
		if refusal.Status >= 500 || !isRefusal(err) {
			a.s.Logger.WarnContext(r.Context(), "credential not checked", "error", err)
		}
		return nil, refusal
	}
	if missing := p.MissingScopes(a.s.Challenge.Scopes); len(missing) > 0 && p.Method == principal.MethodOAuth {
		return nil, &Refusal{Status: http.StatusForbidden, Code: codeInsufficientScope, Scopes: a.s.Challenge.Scopes,
			Description: "the token lacks a scope this server requires"}
	}
	return p, nil
}

func isRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}
