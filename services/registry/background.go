package registry

import (
	"context"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/backoff"
)

// sweepLoop removes expired leases every sweep interval until ctx ends.
func (s *Service) sweepLoop(ctx context.Context) error {
	ticker := time.NewTicker(s.cfg.SweepInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			if err := s.sweep(ctx); err != nil {
				s.log.ErrorContext(ctx, "sweep expired leases", "error", err)
			}
		}
	}
}

// refreshLoop re-reads shared records when another replica says it changed them
// (a PostgreSQL notification on notifyChannel, see notify.go) and every refresh
// interval, the fallback for notifications lost while the listener reconnects.
func (s *Service) refreshLoop(ctx context.Context) error {
	ticker := time.NewTicker(s.cfg.RefreshInterval)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-s.refresh:
		}
		s.mu.Lock()
		err := s.publishLocked(ctx)
		s.mu.Unlock()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			s.log.WarnContext(ctx, "refresh shared provider records failed; retrying", "error", err)
			failing = true
		case err == nil && failing:
			s.log.InfoContext(ctx, "refresh of shared provider records recovered")
			failing = false
		}
	}
}

// sweep removes the leases expired now and publishes the change, if any.
func (s *Service) sweep(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	removed, err := s.store.DeleteExpired(ctx, s.now())
	if err != nil || len(removed) == 0 {
		return err
	}
	s.log.InfoContext(ctx, "provider leases expired", "providers", removed)
	return s.publishChangeLocked(ctx)
}

// Backoff bounds for describing static providers that are not up yet.
var staticRetry = backoff.Config{Min: 250 * time.Millisecond, Max: 30 * time.Second}

// describeStatic describes a configured provider, retrying with backoff until it
// answers or ctx ends, then stores it without a lease.
func (s *Service) describeStatic(ctx context.Context, p StaticProvider) {
	retry := backoff.New(staticRetry)
	for {
		desc, err := s.describe(ctx, p.Name, p.Address)
		if err == nil {
			rec := s.recordFrom(ctx, p.Name, p.Address, desc)
			rec.RegisteredAt = s.now()
			s.mu.Lock()
			err = s.store.Put(ctx, rec)
			if err == nil {
				err = s.publishChangeLocked(ctx)
			}
			s.mu.Unlock()
			if err == nil {
				s.log.InfoContext(ctx, "static provider described", "provider", p.Name, "address", p.Address, "attempts", retry.Attempts()+1)
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		wait := retry.Next()
		s.log.WarnContext(ctx, "static provider not described yet; retrying",
			"provider", p.Name, "address", p.Address, "attempt", retry.Attempts(), "retry_in", wait, "error", err)
		if !backoff.Sleep(ctx, wait) {
			return
		}
	}
}
