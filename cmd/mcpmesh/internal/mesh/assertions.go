package mesh

import (
	"log/slog"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// assertionKeySet is a fixed assertion.KeySet or, from key files, assertion.FileKeys:
// what the session signs with and the gateway publishes.
type assertionKeySet interface {
	assertion.Keys
	JWKS() []byte
}

// assertionKeys loads the keys that sign the identity assertions providers receive,
// once per process: the session service signs with them and the gateway publishes
// them, so in one process both use the same set. Without key files a session service
// gets a key generated at start; only a gateway in the same process can publish it, so
// a session service without one logs that its providers cannot verify. A gateway
// without key files and without a session service publishes nothing.
// Key files are re-read when they change (a rotation needs no restart).
func assertionKeys(cfg meshconfig.Config, logger *slog.Logger) (assertionKeySet, error) {
	a := cfg.Auth.Assertion
	if len(a.SigningKeyFiles) > 0 {
		keys, err := assertion.LoadFileKeys(a.SigningKeyFiles, a.RetiredKeyGrace, logger)
		if err != nil {
			return nil, err
		}
		return keys, nil
	}
	if !cfg.Runs(meshconfig.TargetSession) {
		return nil, nil
	}
	if !cfg.Runs(meshconfig.TargetGateway) {
		logger.Warn("auth.assertion.signing_key_files is not set: provider calls carry assertions signed by a key generated at start, which no gateway publishes; set the same key files on the session and gateway processes so that providers can verify them")
	}
	keys, err := assertion.EphemeralKeys()
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// assertionSigner is the session service's signer (nil without keys).
func (m *Mesh) assertionSigner() (*assertion.Signer, error) {
	if m.assertionKeys == nil {
		return nil, nil
	}
	return assertion.NewSigner(m.assertionKeys, m.cfg.Auth.Assertion.Issuer, m.cfg.Auth.Assertion.TTL)
}

// assertionJWKS is what the gateway serves at assertion.JWKSPath (nil: nothing).
func (m *Mesh) assertionJWKS() gateway.JWKSSource {
	if m.assertionKeys == nil {
		return nil
	}
	return m.assertionKeys
}

// ReloadPolicy puts new auth.policy rules in force without a restart, if this process
// runs the session service; rules that do not compile change nothing and are reported.
func (m *Mesh) ReloadPolicy(cfg session.PolicyConfig) error {
	if m.session == nil {
		return nil
	}
	return m.session.SetPolicy(cfg)
}

// ReloadVirtualServers puts new selections and rules of the virtual servers in force
// without a restart, if this process runs the session service; a change of their
// names, or entries that do not compile, change nothing and are reported.
func (m *Mesh) ReloadVirtualServers(cfgs []session.VirtualServer) error {
	if m.session == nil {
		return nil
	}
	return m.session.SetVirtualServers(cfgs)
}
