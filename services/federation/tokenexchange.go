package federation

import (
	"errors"
	"fmt"
	"net"
	"net/url"
)

// TokenExchange is an upstream reached on behalf of each caller (docs/federation.md,
// "Token exchange"): for every call the caller's identity assertion is exchanged at
// the identity provider (RFC 8693) for an access token of that caller whose audience
// is the upstream, and that token is the call's bearer token. The federation's own
// requests (connecting, reading the catalogue, pings, the session's stream) carry a
// token of the federation itself, by the client credentials grant of the same client.
type TokenExchange struct {
	// TokenURL is the identity provider's token endpoint: https, or http on loopback
	// (the request carries the client secret and the caller's assertion).
	TokenURL         string   `koanf:"token_url"`
	ClientID         string   `koanf:"client_id"`
	ClientSecretFile string   `koanf:"client_secret_file"`
	Scopes           []string `koanf:"scopes"`
	// Audience is sent as the "audience" parameter, and Resource as the RFC 8707
	// "resource" parameter; at least one names the upstream.
	Audience string `koanf:"audience"`
	Resource string `koanf:"resource"`
	// AssertionJWKSURL is where the mesh publishes the keys of its identity assertions
	// (the gateway's /.well-known/jwks.json). The federation verifies the caller's
	// assertion with them before it exchanges it or uses a token cached for that
	// caller, so that a forged assertion can never pick another caller's token.
	AssertionJWKSURL string `koanf:"assertion_jwks_url"`
	// AssertionIssuer is the iss of the mesh's assertions (auth.assertion.issuer);
	// empty means "mcpmesh".
	AssertionIssuer string `koanf:"assertion_issuer"`
}

func (x TokenExchange) configured() bool {
	return x.TokenURL != "" || x.ClientID != "" || x.ClientSecretFile != "" || x.AssertionJWKSURL != ""
}

// kinds names the credentials a configures.
func (a Auth) kinds() []string {
	var kinds []string
	if a.BearerFile != "" {
		kinds = append(kinds, "bearer_file")
	}
	if a.OAuth.configured() {
		kinds = append(kinds, "oauth")
	}
	if a.TokenExchange.configured() {
		kinds = append(kinds, "token_exchange")
	}
	return kinds
}

func (x TokenExchange) validate(at string) error {
	if !x.configured() {
		return nil
	}
	var errs []error
	if p, err := url.Parse(x.TokenURL); err != nil || p.Host == "" || (p.Scheme != "https" && (p.Scheme != "http" || !isLoopback(p.Hostname()))) {
		errs = append(errs, fmt.Errorf("%s.token_url: %q must be an absolute https URL (http only on loopback): the request carries the client secret and the caller's assertion", at, x.TokenURL))
	}
	if x.ClientID == "" {
		errs = append(errs, fmt.Errorf("%s.client_id: required", at))
	}
	if x.ClientSecretFile == "" {
		errs = append(errs, fmt.Errorf("%s.client_secret_file: required", at))
	}
	if x.Audience == "" && x.Resource == "" {
		errs = append(errs, fmt.Errorf("%s: set audience or resource (the upstream the exchanged tokens are for)", at))
	}
	if x.Resource != "" {
		if p, err := url.Parse(x.Resource); err != nil || !p.IsAbs() || p.Fragment != "" {
			errs = append(errs, fmt.Errorf("%s.resource: %q must be an absolute URI without a fragment (RFC 8707)", at, x.Resource))
		}
	}
	if p, err := url.Parse(x.AssertionJWKSURL); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		errs = append(errs, fmt.Errorf("%s.assertion_jwks_url: %q must be an absolute http or https URL (the gateway's /.well-known/jwks.json)", at, x.AssertionJWKSURL))
	}
	return errors.Join(errs...)
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
