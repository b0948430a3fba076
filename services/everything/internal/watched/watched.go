// Package watched is the everything provider's changing resource: its contents move
// to a new revision on a timer and whenever the touch-resource tool asks, and every
// change is told to the mesh (through the provider SDK), so that subscriptions can be
// tried end to end.
package watched

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

// URI is the changing resource (the conformance suite's subscription fixture).
const URI = "test://watched-resource"

// Resource holds the revision.
type Resource struct {
	changed func(uri string) // tells the mesh

	mu  sync.Mutex
	rev int64
}

// New returns the resource at revision 0; changed is called after each change.
func New(changed func(uri string)) *Resource { return &Resource{changed: changed} }

// Read renders the current revision as MCP resource contents (a provider.ReadFunc).
func (r *Resource) Read(context.Context, string) ([]content.ResourceContents, error) {
	r.mu.Lock()
	rev := r.rev
	r.mu.Unlock()
	return []content.ResourceContents{{URI: URI, MimeType: "text/plain",
		Text: "Watched resource content (revision " + strconv.FormatInt(rev, 10) + ")"}}, nil
}

// Touch moves to the next revision and tells the mesh.
func (r *Resource) Touch() {
	r.mu.Lock()
	r.rev++
	r.mu.Unlock()
	r.changed(URI)
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
