package registry

import (
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/catalogue"
)

// WatchCatalogue sends the current snapshot at once and the newest one after every
// change. A slow stream skips intermediate snapshots instead of holding up the
// registry; the changed flags compare with the snapshot this stream sent last.
func (s *Service) WatchCatalogue(_ *registryv1.WatchCatalogueRequest, stream registryv1.RegistryService_WatchCatalogueServer) error {
	const method = "WatchCatalogue"
	ctx := stream.Context()
	sub := s.hub.Subscribe()
	defer sub.Close()
	var sent *catalogue.Snapshot
	for {
		if latest := sub.Latest(); sent == nil || latest.Revision > sent.Revision {
			if err := stream.Send(watchMessage(sent, latest)); err != nil {
				return err // the stream is gone; its status is already decided
			}
			sent = latest
		}
		select {
		case <-ctx.Done():
			return statusOf(ctx, s.log, method, ctx.Err())
		case <-sub.Done():
			return statusOf(ctx, s.log, method, fail(errShuttingDown, nil, "registry is shutting down; watch again"))
		case <-sub.Wake():
		}
	}
}

// watchMessage wraps a shared snapshot for one stream. Only the wrapper is allocated:
// the lists and their messages belong to the snapshot and are never modified.
func watchMessage(prev, next *catalogue.Snapshot) *registryv1.WatchCatalogueResponse {
	first := prev == nil
	return &registryv1.WatchCatalogueResponse{
		Revision:          next.Revision,
		Providers:         next.Providers,
		Tools:             next.Tools,
		Resources:         next.Resources,
		ResourceTemplates: next.ResourceTemplates,
		Prompts:           next.Prompts,
		Announcements:     next.Announcements,
		ToolsChanged:      first || prev.ToolsDigest != next.ToolsDigest,
		ResourcesChanged:  first || prev.ResourcesDigest != next.ResourcesDigest,
		PromptsChanged:    first || prev.PromptsDigest != next.PromptsDigest,
	}
}
