package federation

import (
	"context"
	"log/slog"
	"time"

	"github.com/mcpmesh/mcpmesh/sdk/provider"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource"
)

// GRPCService is one entry of federation.grpc: a gRPC service whose allowed methods
// are served as tools (docs/grpc-tools.md).
type GRPCService = grpcsource.Settings

// GRPCTLS is a gRPC service's TLS settings.
type GRPCTLS = grpcsource.TLS

// runGRPC serves a gRPC source as a provider until ctx ends: it reads the
// descriptors, registers the provider once the first reading has succeeded (so the
// registry's first description already lists the tools), and asks the registry to
// describe it again whenever the tools change.
func (s *Service) runGRPC(ctx context.Context, src *grpcsource.Source) {
	logger := s.logger.With("provider", src.Name())
	if err := src.Start(ctx); err != nil {
		logger.ErrorContext(ctx, "cannot start the gRPC source", "error", err)
		return
	}
	defer func() {
		// After the deregistration below: the provider leaves before its connection.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := src.Stop(stopCtx); err != nil {
			logger.WarnContext(ctx, "gRPC source stopped with an error", "error", err)
		}
	}()
	// The first signal of CatalogueChanged is the first successful reading; until
	// then the provider has no tools, and registering it would publish it empty.
	select {
	case <-ctx.Done():
		s.first.done(src.Name(), false)
		return
	case <-src.CatalogueChanged():
	}
	// It fails only on arguments New has checked.
	_ = provider.KeepRegisteredWatching(ctx, s.deps.Registry, src.Name(), s.deps.Address, s.deps.Lease, s.logger, src.CatalogueChanged())
}

// grpcReadings reports a source's readings as its health: SERVING from the first
// successful reading, NOT_SERVING while readings fail (the last good tools are
// still served, but the service is not answering reflection or its file is bad).
func (s *Service) grpcReadings(name string, logger *slog.Logger) func(error) {
	health := s.healthOf(name)
	return func(err error) {
		if err != nil {
			logger.Debug("gRPC service reading failed", "error", err)
		}
		s.first.done(name, err == nil)
		health(err == nil)
	}
}
