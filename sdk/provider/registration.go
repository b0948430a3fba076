package provider

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

// Bounds of the backoff between failed registry calls.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 30 * time.Second
)

// Timings of the registration loop.
const (
	// maxCallTimeout bounds one registry call; shorter leases get a third of the lease.
	maxCallTimeout = 5 * time.Second
	// deregisterTimeout bounds the goodbye call made after ctx ends.
	deregisterTimeout = 3 * time.Second
)

// KeepRegistered registers the provider name at address with the registry and keeps it
// registered until ctx ends: it heartbeats at a third of the granted lease, registers
// again when a heartbeat says the lease is gone (NotFound), and retries with capped
// exponential backoff and jitter while the registry is unreachable, logging at warn
// without logging every attempt. When ctx ends it deregisters (on a fresh, short-lived
// context) and returns nil. It returns an error only for invalid arguments.
func KeepRegistered(ctx context.Context, client registryv1.RegistryServiceClient, name, address string, lease time.Duration, logger *slog.Logger) error {
	return KeepRegisteredWatching(ctx, client, name, address, lease, logger, nil)
}

// KeepRegisteredWatching is KeepRegistered for a provider whose catalogue changes: each
// signal on changed (Server.CatalogueChanged) asks the registry to describe the
// provider again (RefreshProvider), so that clients see the new catalogue and get
// list_changed notifications. A change while unregistered needs no refresh: the next
// registration describes the provider anyway.
func KeepRegisteredWatching(ctx context.Context, client registryv1.RegistryServiceClient, name, address string, lease time.Duration, logger *slog.Logger, changed <-chan struct{}) error {
	return KeepRegisteredAnnouncing(ctx, client, name, address, lease, logger, changed, nil)
}

// KeepRegisteredAnnouncing is KeepRegisteredWatching for a provider that passes on list
// changes its description may not show, as a gateway to another MCP server does with
// that server's list_changed (it may re-add what it had). At each signal on changed
// it calls announced, which returns the lists signalled since its last call, and the
// refresh announces them (RefreshProviderRequest.announce): the registry tells clients
// those lists changed even when the new description is the same. Lists announced
// while unregistered are dropped: the next registration describes the provider anyway.
// A nil announced announces nothing, as KeepRegisteredWatching.
func KeepRegisteredAnnouncing(ctx context.Context, client registryv1.RegistryServiceClient, name, address string, lease time.Duration, logger *slog.Logger, changed <-chan struct{}, announced func() []registryv1.CatalogueList) error {
	if client == nil || name == "" || address == "" || lease < time.Second {
		return errors.New("keep registered: need a registry client, a name, an address and a lease of at least 1s")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &registration{
		client: client, name: name, address: address, lease: lease, changed: changed, announced: announced,
		logger: logger.With("provider", name, "address", address),
		retry:  &pace{min: retryMin, max: retryMax},
	}
	r.run(ctx)
	r.deregister(ctx)
	return nil
}

// registration is the state of one KeepRegistered loop.
type registration struct {
	client  registryv1.RegistryServiceClient
	name    string
	address string
	lease   time.Duration
	logger  *slog.Logger
	changed <-chan struct{} // nil: the catalogue never changes
	// announced returns the lists to announce with a refresh (nil: none).
	announced func() []registryv1.CatalogueList

	leaseID  string        // empty while not registered
	interval time.Duration // heartbeat interval: a third of the granted lease
	retry    *pace         // paces consecutive failed calls
}

func (r *registration) run(ctx context.Context) {
	for ctx.Err() == nil {
		var wait time.Duration
		if r.leaseID == "" {
			wait = r.register(ctx)
		} else {
			wait = r.heartbeat(ctx)
		}
		if !r.sleep(ctx, wait) {
			return
		}
	}
}

// sleep waits d, or until the catalogue changes (then it refreshes the registry's copy
// and waits the rest); false when ctx ended.
func (r *registration) sleep(ctx context.Context, d time.Duration) bool {
	if r.changed == nil {
		return sleep(ctx, d)
	}
	deadline := time.Now().Add(d)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return ctx.Err() == nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
			return true
		case <-r.changed:
			t.Stop()
			var lists []registryv1.CatalogueList
			if r.announced != nil {
				lists = r.announced()
			}
			if r.leaseID != "" {
				r.refresh(ctx, lists)
			}
		}
	}
}

// refresh asks the registry to describe the provider again, announcing lists. A
// failure is logged: the registry describes the provider anew when it registers again
// (the announcement is lost).
func (r *registration) refresh(ctx context.Context, lists []registryv1.CatalogueList) {
	callCtx, cancel := context.WithTimeout(ctx, r.callTimeout())
	defer cancel()
	if _, err := r.client.RefreshProvider(callCtx, &registryv1.RefreshProviderRequest{Name: r.name, Announce: lists}); err != nil {
		r.logger.WarnContext(ctx, "cannot tell the registry that the catalogue changed", "error", err, "announced", lists)
		return
	}
	r.logger.InfoContext(ctx, "catalogue change sent to the registry", "announced", lists)
}

// register tries once and returns how long to wait before the next step.
func (r *registration) register(ctx context.Context) time.Duration {
	// The call outlives ctx (bounded by its timeout): a registration that was under
	// way when ctx ended must learn its lease, so that the deregistration removes it
	// instead of leaving it to expire.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.callTimeout())
	defer cancel()
	resp, err := r.client.RegisterProvider(callCtx, &registryv1.RegisterProviderRequest{
		Name: r.name, Address: r.address, LeaseSeconds: leaseSeconds(r.lease),
	})
	if err != nil {
		return r.failed(ctx, "register with the registry", err)
	}
	granted := time.Duration(resp.GetLeaseSeconds()) * time.Second
	if granted <= 0 {
		granted = r.lease
	}
	r.leaseID, r.interval = resp.GetLeaseId(), granted/3
	r.recovered(ctx)
	r.logger.InfoContext(ctx, "registered with the registry", "lease", granted)
	return r.interval
}

// heartbeat renews the lease once and returns how long to wait before the next step.
func (r *registration) heartbeat(ctx context.Context) time.Duration {
	callCtx, cancel := context.WithTimeout(ctx, r.callTimeout())
	defer cancel()
	resp, err := r.client.Heartbeat(callCtx, &registryv1.HeartbeatRequest{Name: r.name, LeaseId: r.leaseID})
	switch {
	case status.Code(err) == codes.NotFound:
		r.logger.InfoContext(ctx, "registry lease expired; registering again")
		r.leaseID = ""
		return 0
	case err != nil:
		return r.failed(ctx, "heartbeat to the registry", err)
	}
	if s := resp.GetLeaseSeconds(); s > 0 {
		r.interval = time.Duration(s) * time.Second / 3
	}
	r.recovered(ctx)
	return r.interval
}

// failed counts a failure, logs the 1st, 2nd, 4th, 8th... of a streak, and returns the
// backoff before the next attempt.
func (r *registration) failed(ctx context.Context, what string, err error) time.Duration {
	if ctx.Err() != nil {
		return 0
	}
	wait := r.retry.Next()
	if n := r.retry.Attempts(); n&(n-1) == 0 {
		r.logger.WarnContext(ctx, "cannot "+what+"; retrying", "attempts", n, "error", err)
	}
	return wait
}

func (r *registration) recovered(ctx context.Context) {
	if n := r.retry.Attempts(); n > 0 {
		r.logger.InfoContext(ctx, "registry reachable again", "failed_attempts", n)
	}
	r.retry.Reset()
}

// deregister says goodbye on a fresh context: ctx has already ended.
func (r *registration) deregister(ctx context.Context) {
	if r.leaseID == "" {
		return
	}
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deregisterTimeout)
	defer cancel()
	_, err := r.client.DeregisterProvider(callCtx, &registryv1.DeregisterProviderRequest{Name: r.name, LeaseId: r.leaseID})
	if err != nil && status.Code(err) != codes.NotFound {
		r.logger.WarnContext(callCtx, "cannot deregister from the registry; the lease will expire", "error", err)
		return
	}
	r.logger.InfoContext(callCtx, "deregistered from the registry")
}

func (r *registration) callTimeout() time.Duration {
	return min(max(r.lease/3, time.Second), maxCallTimeout)
}

// leaseSeconds rounds a lease up to whole seconds, as the registry API counts them.
func leaseSeconds(d time.Duration) int32 {
	s := (d + time.Second - 1) / time.Second
	if s > time.Duration(1<<31-1) {
		return 1<<31 - 1
	}
	return int32(s)
}
