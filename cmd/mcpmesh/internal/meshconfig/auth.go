package meshconfig

import (
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// Auth is the section "auth": how callers authenticate (the gateway's part: mode,
// OAuth, API keys) and what they may do (the session service's part: policy, audit,
// and the assertions providers receive instead of the client's token).
type Auth struct {
	// Mode is "oauth", "api_key", "oauth+api_key" or "none" (gateway.AuthConfig.Mode).
	Mode string `koanf:"mode"`
	// OAuth configures the OAuth 2.1 resource server.
	OAuth gateway.OAuthConfig `koanf:"oauth"`
	// APIKeys configures API keys.
	APIKeys gateway.APIKeysConfig `koanf:"api_keys"`
	// Policy decides who may use which tool, resource and prompt (docs/policy.md).
	Policy session.PolicyConfig `koanf:"policy"`
	// Audit writes one line per call and per denial on a logger of its own.
	Audit session.AuditConfig `koanf:"audit"`
	// Assertion signs the identity assertions providers receive instead of the
	// client's token.
	Assertion assertion.Config `koanf:"assertion"`
}

// Gateway is the gateway's part of the section.
func (a Auth) Gateway() gateway.AuthConfig {
	return gateway.AuthConfig{Mode: a.Mode, OAuth: a.OAuth, APIKeys: a.APIKeys}
}

// Authorization is the session service's part of the section.
func (a Auth) Authorization() session.Authorization {
	return session.Authorization{Policy: a.Policy, Audit: a.Audit, Assertion: a.Assertion}
}

func defaultAuth() Auth {
	g, s := gateway.DefaultAuthConfig(), session.DefaultAuthorization()
	return Auth{Mode: g.Mode, OAuth: g.OAuth, APIKeys: g.APIKeys, Policy: s.Policy, Audit: s.Audit, Assertion: s.Assertion}
}

// AuthOn reports whether callers must authenticate (auth.mode other than none): then
// /metrics is served on the admin listener only.
func (c Config) AuthOn() bool { return c.Auth.Mode != "" && c.Auth.Mode != "none" }
