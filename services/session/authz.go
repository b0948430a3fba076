package session

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/session/internal/audit"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
	"github.com/mcpmesh/mcpmesh/services/session/internal/vserver"
)

// Authorization is the part of the section "auth" that the session service enforces:
// the policy, the audit trail and the identity assertions for providers. (The gateway
// owns the rest of "auth": how callers authenticate.)
type Authorization struct {
	Policy    PolicyConfig     `koanf:"policy"`
	Audit     AuditConfig      `koanf:"audit"`
	Assertion assertion.Config `koanf:"assertion"`
	// VirtualServers are the top-level section virtual_servers: named selections of
	// the catalogue, each served at /mcp/<name> (docs/virtual-servers.md). Not a key
	// of "auth": the binary's configuration fills it.
	VirtualServers []VirtualServer `koanf:"-"`
}

// VirtualServer is one entry of virtual_servers.
type VirtualServer = vserver.Config

// PolicyConfig is auth.policy (rules and default; see docs/policy.md).
type PolicyConfig = policy.Config

// PolicyRule is one entry of auth.policy.rules.
type PolicyRule = policy.Rule

// AuditConfig is auth.audit.
type AuditConfig = audit.Config

// DefaultAuthorization returns the defaults: no rules (everything allowed), no audit
// lines, assertions with the default issuer and lifetime.
func DefaultAuthorization() Authorization {
	return Authorization{Audit: audit.DefaultConfig(), Assertion: assertion.DefaultConfig()}
}

// Validate reports every problem, rules compiled (a bad condition names its rule).
func (a Authorization) Validate() error {
	var errs []error
	if _, err := policy.New(a.Policy); err != nil {
		errs = append(errs, err)
	}
	if err := a.Audit.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := a.Assertion.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := vserver.New(a.VirtualServers); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SetPolicy replaces the rules in force, for reloads without restart: requests that
// start afterwards see the new rules. Rules that do not compile change nothing.
func (s *Service) SetPolicy(cfg PolicyConfig) error {
	p, err := policy.New(cfg)
	if err != nil {
		return fmt.Errorf("reload auth.policy: %w", err)
	}
	s.policy.Store(p)
	return nil
}

// SetVirtualServers replaces the selections and rules of the virtual servers, for
// reloads without restart. The set of names must stay the one the service started
// with: the gateway routes /mcp/<name> by the names it started with, so adding or
// removing one needs a restart of both. Entries that do not compile change nothing.
func (s *Service) SetVirtualServers(cfgs []VirtualServer) error {
	set, err := vserver.New(cfgs)
	if err != nil {
		return fmt.Errorf("reload virtual_servers: %w", err)
	}
	before, after := s.virtualServers.Load().Names(), set.Names()
	slices.Sort(before)
	slices.Sort(after)
	if !slices.Equal(before, after) {
		return fmt.Errorf("reload virtual_servers: the names changed from %v to %v; adding, removing or renaming a virtual server needs a restart", before, after)
	}
	s.virtualServers.Store(set)
	return nil
}

// currentPolicy is what the dispatcher evaluates.
func (s *Service) currentPolicy() *policy.Policy { return s.policy.Load() }
