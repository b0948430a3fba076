package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	federationv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/federation/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

// admin serves UpstreamAdminService: it checks each request as the configuration
// file's upstreams are checked, then writes the store; every replica (this one too)
// applies the change when the store signals it (dynamic.go).
type admin struct {
	federationv1.UnimplementedUpstreamAdminServiceServer

	s *Service
}

// Admin is the service's UpstreamAdminService.
func (s *Service) Admin() federationv1.UpstreamAdminServiceServer { return &admin{s: s} }

// ListUpstreams lists the configured upstreams and the stored ones, by name.
func (a *admin) ListUpstreams(ctx context.Context, _ *federationv1.ListUpstreamsRequest) (*federationv1.ListUpstreamsResponse, error) {
	stored, err := a.s.deps.Store.List(ctx)
	if err != nil {
		return nil, storeError(err)
	}
	out := make([]*federationv1.Upstream, 0, len(a.s.cfg.Upstreams)+len(stored))
	for _, u := range a.s.cfg.Upstreams {
		out = append(out, upstreamAnswer(u, federationv1.UpstreamSource_UPSTREAM_SOURCE_CONFIG, nil))
	}
	for _, su := range stored {
		if a.s.configuredName(su.Name) != "" {
			continue // shadowed by the configuration file (reconcile ignores it too)
		}
		out = append(out, storedAnswer(su))
	}
	slices.SortFunc(out, func(x, y *federationv1.Upstream) int { return strings.Compare(x.GetName(), y.GetName()) })
	return &federationv1.ListUpstreamsResponse{Upstreams: out}, nil
}

// GetUpstream returns one upstream, configured or stored.
func (a *admin) GetUpstream(ctx context.Context, req *federationv1.GetUpstreamRequest) (*federationv1.GetUpstreamResponse, error) {
	name := req.GetName()
	for _, u := range a.s.cfg.Upstreams {
		if u.Name == name {
			return &federationv1.GetUpstreamResponse{Upstream: upstreamAnswer(u, federationv1.UpstreamSource_UPSTREAM_SOURCE_CONFIG, nil)}, nil
		}
	}
	su, ok, err := a.stored(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no upstream named %q", name)
	}
	return &federationv1.GetUpstreamResponse{Upstream: storedAnswer(su)}, nil
}

// PutUpstream creates or replaces a stored upstream. Every check comes before the
// single write, so a refused put leaves the store as it was.
func (a *admin) PutUpstream(ctx context.Context, req *federationv1.PutUpstreamRequest) (*federationv1.PutUpstreamResponse, error) {
	name := req.GetName()
	if req.GetUpstream() == nil {
		return nil, status.Error(codes.InvalidArgument, "upstream: required (the upstream's spec)")
	}
	spec := upstreamFromProto(req.GetUpstream())
	if spec.Name != "" && spec.Name != name {
		return nil, status.Errorf(codes.InvalidArgument, "upstream.name: %q differs from the name %q the request puts (leave it empty or make them equal)", spec.Name, name)
	}
	spec.Name = name
	// The checks of federation.upstreams entries in the configuration file.
	if err := spec.validate("upstream"); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if len(spec.Command) > 0 && !a.s.cfg.Admin.AllowCommands {
		return nil, status.Error(codes.PermissionDenied,
			"upstream.command: stdio upstreams (a program each federation replica starts) cannot be put through the API unless federation.admin.allow_commands is true; put an HTTP upstream (url) instead")
	}
	if where := a.s.configuredName(name); where != "" {
		return nil, status.Errorf(codes.AlreadyExists, "upstream %q: the configuration file defines %q (%s), which is read-only through the API; choose another name", name, name, where)
	}
	_, existed, err := a.stored(ctx, name)
	if err != nil {
		return nil, err
	}
	if !existed {
		if err := a.nameFree(ctx, name); err != nil {
			return nil, err
		}
	}
	su, created, err := a.s.deps.Store.Put(ctx, spec)
	if err != nil {
		return nil, storeError(err)
	}
	a.s.logger.InfoContext(ctx, "upstream put through the admin API", "upstream", name, "created", created)
	return &federationv1.PutUpstreamResponse{Upstream: storedAnswer(su), Created: created}, nil
}

// DeleteUpstream removes a stored upstream.
func (a *admin) DeleteUpstream(ctx context.Context, req *federationv1.DeleteUpstreamRequest) (*federationv1.DeleteUpstreamResponse, error) {
	name := req.GetName()
	if where := a.s.configuredName(name); where != "" {
		return nil, status.Errorf(codes.FailedPrecondition, "upstream %q is defined by the configuration file (%s): remove it there, the API cannot", name, where)
	}
	deleted, err := a.s.deps.Store.Delete(ctx, name)
	if err != nil {
		return nil, storeError(err)
	}
	if !deleted {
		return nil, status.Errorf(codes.NotFound, "no upstream named %q is stored", name)
	}
	a.s.logger.InfoContext(ctx, "upstream deleted through the admin API", "upstream", name)
	return &federationv1.DeleteUpstreamResponse{}, nil
}

// stored looks name up in the store.
func (a *admin) stored(ctx context.Context, name string) (StoredUpstream, bool, error) {
	list, err := a.s.deps.Store.List(ctx)
	if err != nil {
		return StoredUpstream{}, false, storeError(err)
	}
	for _, su := range list {
		if su.Name == name {
			return su, true, nil
		}
	}
	return StoredUpstream{}, false, nil
}

// nameFree refuses the name of a provider the registry already has (the everything
// provider, a provider registered by another process): a new upstream must not take
// over its name.
func (a *admin) nameFree(ctx context.Context, name string) error {
	resp, err := a.s.deps.Registry.ListProviders(ctx, &registryv1.ListProvidersRequest{})
	if err != nil {
		return status.Errorf(codes.Unavailable, "cannot check the name %q with the registry: %v", name, err)
	}
	for _, p := range resp.GetProviders() {
		if p.GetName() == name {
			return status.Errorf(codes.AlreadyExists, "upstream %q: a provider of that name is already registered (at %s); choose another name", name, p.GetAddress())
		}
	}
	return nil
}

func storedAnswer(su StoredUpstream) *federationv1.Upstream {
	return upstreamAnswer(su.Upstream, federationv1.UpstreamSource_UPSTREAM_SOURCE_API, timestamppb.New(su.UpdatedAt))
}

// storeError is a store failure as a gRPC status: the caller may retry.
func storeError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Unavailable, fmt.Sprintf("upstream store: %v", err))
}
