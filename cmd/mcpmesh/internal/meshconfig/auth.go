package meshconfig

import (
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// Auth is the section "auth". The session service enforces policy, audit and
// assertion (session.Authorization); the gateway publishes the assertion keys.
type Auth struct {
	// Policy decides who may use which tool, resource and prompt (docs/policy.md).
	Policy session.PolicyConfig `koanf:"policy"`
	// Audit writes one line per call and per denial on a logger of its own.
	Audit session.AuditConfig `koanf:"audit"`
	// Assertion signs the identity assertions providers receive instead of the
	// client's token.
	Assertion assertion.Config `koanf:"assertion"`
}

// Authorization is the session service's part of the section.
func (a Auth) Authorization() session.Authorization {
	return session.Authorization{Policy: a.Policy, Audit: a.Audit, Assertion: a.Assertion}
}

func defaultAuth() Auth {
	d := session.DefaultAuthorization()
	return Auth{Policy: d.Policy, Audit: d.Audit, Assertion: d.Assertion}
}
