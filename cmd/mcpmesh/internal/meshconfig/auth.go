package meshconfig

import (
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// Auth is the section "auth". The gateway authenticates callers (mode, oauth,
// api_keys: gateway.AuthConfig); the session service enforces policy, audit and
// assertion (session.Authorization); the gateway also publishes the assertion keys.
type Auth struct {
	// Mode, OAuth and APIKeys: see gateway.AuthConfig (docs/security.md).
	Mode    string                `koanf:"mode"`
	OAuth   gateway.OAuthConfig   `koanf:"oauth"`
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
	g := gateway.DefaultAuthConfig()
	s := session.DefaultAuthorization()
	return Auth{Mode: g.Mode, OAuth: g.OAuth, APIKeys: g.APIKeys, Policy: s.Policy, Audit: s.Audit, Assertion: s.Assertion}
}
