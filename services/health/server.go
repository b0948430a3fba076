package health

import (
	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	"google.golang.org/grpc"

	"context"

	"github.com/mcpmesh/mcpmesh/services/health/internal/latest"
)

// Check returns the latest aggregate health.
func (s *Service) Check(ctx context.Context, _ *healthv1.CheckRequest) (*healthv1.CheckResponse, error) {
	r, err := s.current(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	return r, nil
}

// Watch sends the current health at once and again whenever the aggregate or any
// component's status changes. It never slows the checker: when the client is slow to
// read, it skips to the newest result.
func (s *Service) Watch(_ *healthv1.WatchRequest, stream grpc.ServerStreamingServer[healthv1.WatchResponse]) error {
	ctx := stream.Context()
	sent, err := s.current(ctx)
	if err != nil {
		return grpcError(err)
	}
	if err := stream.Send(&healthv1.WatchResponse{Health: sent}); err != nil {
		return err
	}
	for {
		r, changed := s.latest.LoadWithChange()
		if !latest.SameStatuses(r, sent) {
			if err := stream.Send(&healthv1.WatchResponse{Health: r}); err != nil {
				return err
			}
			sent = r
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return grpcError(ctx.Err())
		case <-s.Stopping():
			return grpcError(errStopped)
		}
	}
}
