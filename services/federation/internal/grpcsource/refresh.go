package grpcsource

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/descriptors"
	"github.com/mcpmesh/mcpmesh/services/kit/backoff"
)

// run reads the descriptors at once, then every refresh interval and whenever a call
// saw Unimplemented; failed readings are retried with backoff, and the last good
// catalogue stays in service meanwhile.
func (s *Source) run(ctx context.Context) error {
	retry := backoff.New(backoff.Config{Min: 200 * time.Millisecond, Max: s.settings.RefreshInterval})
	for {
		wait := s.refreshOrBackoff(ctx, retry)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.reload:
			t.Stop()
		case <-t.C:
		}
	}
}

// refreshOrBackoff reads the descriptors once and returns how long to wait before
// the next reading: the refresh interval after a success, the next backoff after a
// failure.
func (s *Source) refreshOrBackoff(ctx context.Context, retry *backoff.Backoff) time.Duration {
	_, err := s.Refresh(ctx)
	if ctx.Err() == nil {
		s.afterReading(err)
	}
	if err != nil {
		wait := retry.Next()
		if ctx.Err() == nil { // not merely stopping
			s.logger.WarnContext(ctx, "cannot read the gRPC service's descriptors; retrying", "error", err, "retry_in", wait)
		}
		return wait
	}
	retry.Reset()
	return s.settings.RefreshInterval
}

// Refresh reads the descriptors once and, when they changed, replaces the catalogue
// and signals CatalogueChanged. It reports whether the catalogue changed.
func (s *Source) Refresh(ctx context.Context) (bool, error) {
	set, err := s.read(ctx)
	s.mu.Lock()
	s.lastErr = err
	same := err == nil && s.current != nil && s.current.set.Fingerprint == set.Fingerprint
	s.mu.Unlock()
	if err != nil {
		return false, err
	}
	if same {
		return false, nil
	}
	c := buildCatalogue(set, s.settings.Prefix)
	for _, sk := range c.skipped {
		s.logger.InfoContext(ctx, "gRPC method not served as a tool", "method", sk.Method, "reason", sk.Reason)
	}
	s.mu.Lock()
	s.current = c
	s.mu.Unlock()
	s.logger.InfoContext(ctx, "gRPC service descriptors read", "origin", set.Origin, "tools", len(c.defs))
	select {
	case s.changed <- struct{}{}:
	default: // a change is already pending; its reader will see this one too
	}
	return true, nil
}

func (s *Source) read(ctx context.Context) (*descriptors.Set, error) {
	sel := descriptors.Selection{Services: s.settings.Services, Methods: s.settings.Methods, MaxBytes: s.settings.MaxDescriptorBytes}
	if s.settings.DescriptorSetFile != "" {
		set, err := descriptors.FromFile(s.settings.DescriptorSetFile, sel)
		if err != nil {
			return nil, fmt.Errorf("gRPC source %s: %w", s.settings.Name, err)
		}
		return set, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.settings.ReflectionTimeout)
	defer cancel()
	set, err := descriptors.FromReflection(ctx, s.conn, sel)
	if err != nil {
		return nil, fmt.Errorf("gRPC source %s at %s: %w", s.settings.Name, s.settings.Address, err)
	}
	return set, nil
}

// reloadSoon asks the run loop for a reading now (at most one pending).
func (s *Source) reloadSoon() {
	select {
	case s.reload <- struct{}{}:
	default:
	}
}
