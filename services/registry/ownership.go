package registry

import (
	"context"
	"fmt"

	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
)

// Ownership of provider names and tool names by identity.
//
// A registration over the network carries the caller's identity when it came with a
// verified client certificate (grpc.tls). The registry then enforces that:
//   - the caller is an allowed identity for the provider name (registry.provider_identities);
//   - a live provider registered by one identity cannot be replaced by another;
//   - no tool it offers has the name of a tool that a live provider registered by
//     another identity offers: the first owner keeps the name, rather than both being
//     qualified ("<provider>.<tool>") and clients' calls to the plain name broken.
//
// Registrations without an identity (in process, or plaintext behind a service mesh
// that authenticates callers itself) are owned by "", so that between themselves the
// rules are the plain ones: same-named tools are qualified.

// registrant is the identity registering provider name, after checking it may.
func (s *Service) registrant(ctx context.Context, name string) (string, error) {
	p := meshtls.PeerFrom(ctx)
	if !p.Network || len(s.cfg.ProviderIdentities) == 0 {
		return p.Identity(), nil
	}
	pattern, ok := s.cfg.ProviderIdentities[name]
	if !ok {
		pattern, ok = s.cfg.ProviderIdentities["*"]
	}
	switch {
	case !ok:
		return "", fail(errPermissionDenied, nil, "provider name %s may not be registered (registry.provider_identities has no entry for it)", name)
	case len(p.Identities) == 0:
		return "", fail(errPermissionDenied, nil, "registering provider %s needs a client certificate", name)
	case !p.Matches([]string{pattern}):
		return "", fail(errPermissionDenied, nil, "peer %s may not register provider %s", p.Identity(), name)
	}
	return p.Identity(), nil
}

// checkOwnershipLocked refuses rec when it would take a name or a tool name from a
// live provider registered by another identity. Called with s.mu held, so that two
// registrations cannot both pass before either is stored.
func (s *Service) checkOwnershipLocked(ctx context.Context, rec store.Record) error {
	records, err := s.store.List(ctx)
	if err != nil {
		return fmt.Errorf("list provider records: %w", err)
	}
	now := s.now()
	tools := map[string]bool{}
	for _, t := range rec.Catalogue.GetTools() {
		tools[t.GetName()] = true
	}
	for _, other := range records {
		if other.Owner == rec.Owner || other.Expired(now) {
			continue
		}
		if other.Name == rec.Name {
			return fail(errPermissionDenied, nil, "provider %s is registered by another identity", rec.Name)
		}
		for _, t := range other.Catalogue.GetTools() {
			if tools[t.GetName()] {
				return fail(errPermissionDenied, nil, "tool %s belongs to provider %s, registered by another identity", t.GetName(), other.Name)
			}
		}
	}
	return nil
}
