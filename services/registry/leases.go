package registry

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/namedservice"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
)

// RegisterProvider describes the provider and grants it a new lease, replacing any
// earlier registration under the same name.
func (s *Service) RegisterProvider(ctx context.Context, req *registryv1.RegisterProviderRequest) (*registryv1.RegisterProviderResponse, error) {
	const method = "RegisterProvider"
	name, addr := req.GetName(), req.GetAddress()
	if err := validateProviderName(name); err != nil {
		return nil, statusOf(ctx, s.log, method, fail(errInvalidArgument, nil, "%v", err))
	}
	if err := validateAddress(addr); err != nil {
		return nil, statusOf(ctx, s.log, method, fail(errInvalidArgument, nil, "%v", err))
	}
	if _, ok := s.static[name]; ok {
		return nil, statusOf(ctx, s.log, method, fail(errAlreadyExists, nil, "provider %s is configured statically and cannot register", name))
	}
	owner, err := s.registrant(ctx, name)
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	lease, err := s.grantLease(req.GetLeaseSeconds())
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	desc, err := s.describe(ctx, name, addr)
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	leaseID, err := newLeaseID()
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	now := s.now()
	rec := s.recordFrom(ctx, name, addr, desc)
	rec.LeaseID, rec.Lease, rec.LeaseExpiresAt, rec.RegisteredAt = leaseID, lease, now.Add(lease), now
	rec.Owner = owner

	s.mu.Lock()
	err = s.checkOwnershipLocked(ctx, rec)
	if err == nil {
		err = s.store.Put(ctx, rec)
	}
	if err == nil {
		err = s.publishChangeLocked(ctx)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	s.log.InfoContext(ctx, "provider registered", "provider", name, "address", addr, "lease", lease)
	return &registryv1.RegisterProviderResponse{
		LeaseId:      leaseID,
		LeaseSeconds: int32(lease / time.Second),
		Provider:     catalogue.ProviderView(rec),
	}, nil
}

// Heartbeat renews a live lease for the length granted at registration.
func (s *Service) Heartbeat(ctx context.Context, req *registryv1.HeartbeatRequest) (*registryv1.HeartbeatResponse, error) {
	const method = "Heartbeat"
	name, leaseID := req.GetName(), req.GetLeaseId()
	if name == "" || leaseID == "" {
		return nil, statusOf(ctx, s.log, method, fail(errInvalidArgument, nil, "name and lease_id are required"))
	}
	rec, err := s.store.Renew(ctx, name, leaseID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, statusOf(ctx, s.log, method, leaseGone(name))
	}
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	return &registryv1.HeartbeatResponse{LeaseSeconds: int32(rec.Lease / time.Second)}, nil
}

// DeregisterProvider removes a provider at once.
func (s *Service) DeregisterProvider(ctx context.Context, req *registryv1.DeregisterProviderRequest) (*registryv1.DeregisterProviderResponse, error) {
	const method = "DeregisterProvider"
	name, leaseID := req.GetName(), req.GetLeaseId()
	if name == "" || leaseID == "" {
		return nil, statusOf(ctx, s.log, method, fail(errInvalidArgument, nil, "name and lease_id are required"))
	}
	s.mu.Lock()
	err := s.store.Delete(ctx, name, leaseID)
	if err == nil {
		err = s.publishChangeLocked(ctx)
	}
	s.mu.Unlock()
	if errors.Is(err, store.ErrNotFound) {
		return nil, statusOf(ctx, s.log, method, fail(errNotFound, nil, "provider %s has no lease %s", name, leaseID))
	}
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	s.log.InfoContext(ctx, "provider deregistered", "provider", name)
	return &registryv1.DeregisterProviderResponse{}, nil
}

// RefreshProvider calls the provider's Describe again and replaces its catalogue,
// keeping its lease. The lists the request announces count as changed for watchers
// even when the new description lists the same entries (announce.go).
func (s *Service) RefreshProvider(ctx context.Context, req *registryv1.RefreshProviderRequest) (*registryv1.RefreshProviderResponse, error) {
	const method = "RefreshProvider"
	name := req.GetName()
	if name == "" {
		return nil, statusOf(ctx, s.log, method, fail(errInvalidArgument, nil, "name is required"))
	}
	announce, err := announcedLists(req.GetAnnounce())
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	before, err := s.store.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && before.Expired(s.now())) {
		return nil, statusOf(ctx, s.log, method, fail(errNotFound, nil, "unknown provider %s", name))
	}
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	desc, err := s.describe(ctx, name, before.Address)
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	fresh := s.recordFrom(ctx, name, before.Address, desc)
	fresh.LeaseID, fresh.Owner = before.LeaseID, before.Owner

	s.mu.Lock()
	// A new description may not add a tool name another identity owns.
	err = s.checkOwnershipLocked(ctx, fresh)
	var current store.Record
	if err == nil {
		// The store applies the new description only if the lease and address are
		// still the ones read above, so a registration on another replica meanwhile
		// is kept.
		current, err = s.store.Redescribe(ctx, fresh, announce)
	}
	if err == nil {
		err = s.publishChangeLocked(ctx)
	} else if errors.Is(err, store.ErrNotFound) {
		// It registered again meanwhile (that registration described it already), or left.
		current, err = s.store.Get(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			err = fail(errNotFound, nil, "provider %s left while it was refreshed", name)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, statusOf(ctx, s.log, method, err)
	}
	return &registryv1.RefreshProviderResponse{Provider: catalogue.ProviderView(current)}, nil
}

// describe calls a provider's Describe, bounded by the describe timeout.
func (s *Service) describe(ctx context.Context, name, addr string) (*providerv1.DescribeResponse, error) {
	conn, err := s.conns.Conn(addr)
	if err != nil {
		return nil, fail(errProviderUnavailable, err, "provider %s at %s is unreachable", name, addr)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DescribeTimeout)
	defer cancel()
	resp, err := providerv1.NewProviderServiceClient(namedservice.Conn(conn, name)).Describe(ctx, &providerv1.DescribeRequest{})
	if err != nil {
		return nil, fail(errProviderUnavailable, err, "provider %s at %s did not answer Describe", name, addr)
	}
	return resp, nil
}

// recordFrom turns a Describe answer into a record (without lease fields), keeping
// only the entries the registry can serve.
func (s *Service) recordFrom(ctx context.Context, name, addr string, desc *providerv1.DescribeResponse) store.Record {
	cat, problems := catalogue.Sanitize(desc.GetCatalogue())
	if len(problems) > 0 {
		s.log.WarnContext(ctx, "provider catalogue has entries the registry ignores", "provider", name, "problems", problems)
	}
	if desc.GetName() != "" && desc.GetName() != name {
		s.log.DebugContext(ctx, "provider calls itself by another name; the registered name wins", "provider", name, "self_name", desc.GetName())
	}
	return store.Record{
		Name: name, Address: addr, Version: desc.GetVersion(), Instructions: desc.GetInstructions(), Catalogue: cat,
	}
}

// grantLease applies the default and the bounds to a requested lease.
func (s *Service) grantLease(requested int32) (time.Duration, error) {
	seconds := int(requested)
	switch {
	case seconds < 0:
		return 0, fail(errInvalidArgument, nil, "lease_seconds must not be negative")
	case seconds == 0:
		seconds = s.cfg.LeaseSeconds
	}
	seconds = min(max(seconds, minLeaseSeconds), s.cfg.MaxLeaseSeconds)
	return time.Duration(seconds) * time.Second, nil
}

func leaseGone(name string) error {
	return fail(errNotFound, nil, "provider %s has no live lease with that id; register again", name)
}

func newLeaseID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
