package federation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// Resource updates: when the upstream can notify them, the federation subscribes to
// every resource it lists (that the filters keep) at each connection, and passes each
// notifications/resources/updated on to the WatchResources streams of the mesh (one
// per session replica).

// watchers are the open WatchResources streams of one upstream.
type watchers struct {
	mu   sync.Mutex
	next int
	subs map[int]chan *providerv1.WatchResourcesResponse
}

func (w *watchers) add() (<-chan *providerv1.WatchResourcesResponse, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.subs == nil {
		w.subs = map[int]chan *providerv1.WatchResourcesResponse{}
	}
	w.next++
	id := w.next
	ch := make(chan *providerv1.WatchResourcesResponse, 64)
	w.subs[id] = ch
	return ch, func() {
		w.mu.Lock()
		delete(w.subs, id)
		w.mu.Unlock()
	}
}

// publish sends one change, with one id on every stream, so that the replicas that
// all receive it record it once. A stream too far behind misses it rather than
// holding up the upstream's connection.
func (w *watchers) publish(uri string) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	change := &providerv1.WatchResourcesResponse{Uri: uri, ChangeId: hex.EncodeToString(b)}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.subs {
		select {
		case ch <- change:
		default:
		}
	}
}

// onResourceUpdated is the SDK client's handler of notifications/resources/updated.
func (u *upstream) onResourceUpdated(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
	if u.cfg.Resources.keeps(req.Params.URI) {
		u.watchers.publish(req.Params.URI)
	}
}

// subscribeAll subscribes to the upstream's resources when it can notify updates.
// A failure is logged: the resources are still served, without change notices.
func (u *upstream) subscribeAll(ctx context.Context, s *mcp.ClientSession) {
	caps := s.InitializeResult().Capabilities
	if caps == nil || caps.Resources == nil || !caps.Resources.Subscribe {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout())
	defer cancel()
	for r, err := range s.Resources(ctx, nil) {
		if err != nil {
			u.logger.WarnContext(ctx, "cannot list resources to subscribe to", "error", err)
			return
		}
		if !u.cfg.Resources.keeps(r.URI) {
			continue
		}
		if err := s.Subscribe(ctx, &mcp.SubscribeParams{URI: r.URI}); err != nil {
			u.logger.WarnContext(ctx, "cannot subscribe to an upstream resource", "uri", r.URI, "error", err)
		}
	}
}

// WatchResources streams the upstream's resource updates until the caller leaves or
// the federation stops.
func (u *upstream) WatchResources(_ *providerv1.WatchResourcesRequest, stream grpc.ServerStreamingServer[providerv1.WatchResourcesResponse]) error {
	changes, done := u.watchers.add()
	defer done()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-u.stopping:
			return nil
		case c := <-changes:
			if err := stream.Send(c); err != nil {
				return err
			}
		}
	}
}
