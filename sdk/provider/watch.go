package provider

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"

	"google.golang.org/grpc"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// subscriberBuffer is how many changes a slow stream may lag behind before changes
// are dropped for it (a resources/updated notice is a hint to re-read, so the next
// one makes up for a dropped one).
const subscriberBuffer = 16

// changeFeed tells every WatchResources stream about each resource change.
type changeFeed struct {
	epoch string // makes change ids unique across restarts

	mu   sync.Mutex
	seq  int64
	subs map[chan *providerv1.WatchResourcesResponse]struct{}
}

func newChangeFeed() *changeFeed {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return &changeFeed{epoch: hex.EncodeToString(b[:]), subs: map[chan *providerv1.WatchResourcesResponse]struct{}{}}
}

func (f *changeFeed) publish(uri string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	c := &providerv1.WatchResourcesResponse{Uri: uri, ChangeId: f.epoch + "-" + strconv.FormatInt(f.seq, 10)}
	for ch := range f.subs {
		select {
		case ch <- c:
		default: // a stream that lags this far behind misses a hint; the next one follows
		}
	}
}

func (f *changeFeed) subscribe() (<-chan *providerv1.WatchResourcesResponse, func()) {
	ch := make(chan *providerv1.WatchResourcesResponse, subscriberBuffer)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}
}

// ResourceChanged tells the mesh that the contents of uri changed: clients subscribed
// to it get notifications/resources/updated.
func (s *Server) ResourceChanged(uri string) { s.watch.publish(uri) }

// WatchResources streams every resource change until the caller leaves or Close.
func (s *Server) WatchResources(_ *providerv1.WatchResourcesRequest, stream grpc.ServerStreamingServer[providerv1.WatchResourcesResponse]) error {
	changes, unsubscribe := s.watch.subscribe()
	defer unsubscribe()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-s.closed:
			return nil
		case c := <-changes:
			if err := stream.Send(c); err != nil {
				return err
			}
		}
	}
}
