// Package watched is the everything provider's changing resource: its contents move
// to a new revision on a timer and whenever the touch-resource tool asks, and every
// change is told to the mesh's WatchResources streams, so that subscriptions can be
// tried end to end.
package watched

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/content"
)

// URI is the changing resource (the conformance suite's subscription fixture).
const URI = "test://watched-resource"

// subscriberBuffer is how many changes a slow stream may lag behind before changes
// are dropped for it (a resources/updated notice is a hint to re-read, so the next
// one makes up for a dropped one).
const subscriberBuffer = 16

// Change is one new revision.
type Change struct {
	URI string
	// ID is unique per change across restarts of the provider.
	ID string
}

// Resource holds the revision and the subscribers.
type Resource struct {
	epoch string

	mu   sync.Mutex
	rev  int64
	subs map[chan Change]struct{}
}

// New returns the resource at revision 0.
func New() *Resource {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return &Resource{epoch: hex.EncodeToString(b[:]), subs: map[chan Change]struct{}{}}
}

// Contents renders the current revision as MCP resource contents (a JSON array).
func (r *Resource) Contents() ([]byte, error) {
	r.mu.Lock()
	rev := r.rev
	r.mu.Unlock()
	return content.Blocks(content.ResourceContents{URI: URI, MimeType: "text/plain",
		Text: "Watched resource content (revision " + strconv.FormatInt(rev, 10) + ")"})
}

// Touch moves to the next revision and tells every subscriber.
func (r *Resource) Touch() Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rev++
	c := Change{URI: URI, ID: r.epoch + "-" + strconv.FormatInt(r.rev, 10)}
	for ch := range r.subs {
		select {
		case ch <- c:
		default: // a stream that lags this far behind misses a hint; the next one follows
		}
	}
	return c
}

// Subscribe returns a channel of changes and the function that ends it.
func (r *Resource) Subscribe() (<-chan Change, func()) {
	ch := make(chan Change, subscriberBuffer)
	r.mu.Lock()
	r.subs[ch] = struct{}{}
	r.mu.Unlock()
	return ch, func() {
		r.mu.Lock()
		delete(r.subs, ch)
		r.mu.Unlock()
	}
}

// Run touches the resource every interval until ctx ends; a zero interval only waits.
func (r *Resource) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Touch()
		}
	}
}
