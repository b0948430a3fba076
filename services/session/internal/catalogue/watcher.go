package catalogue

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/backoff"
)

// reconnect bounds the waits between reconnection attempts after the watch stream
// breaks.
var reconnect = backoff.Config{Min: 100 * time.Millisecond, Max: 5 * time.Second}

// Watcher follows the registry's WatchCatalogue stream and keeps the latest snapshot.
type Watcher struct {
	registry registryv1.RegistryServiceClient
	logger   *slog.Logger
	current  atomic.Pointer[Snapshot]
	onChange func(old, new *Snapshot)
	// inOutage is owned by the Run goroutine.
	inOutage bool
}

// NewWatcher returns a watcher that has no snapshot until Run receives one.
func NewWatcher(registry registryv1.RegistryServiceClient, logger *slog.Logger) *Watcher {
	return &Watcher{registry: registry, logger: logger}
}

// OnChange sets a function that Run calls (from its goroutine, in order) after each
// new snapshot is installed; old is nil for the first. Set it before Run.
func (w *Watcher) OnChange(fn func(old, new *Snapshot)) { w.onChange = fn }

// Current returns the latest snapshot, or nil before the first one arrived.
func (w *Watcher) Current() *Snapshot { return w.current.Load() }

// Set installs a snapshot (the watch loop uses it; tests may too).
func (w *Watcher) Set(s *Snapshot) { w.current.Store(s) }

// Run watches until ctx ends, reconnecting with capped exponential backoff. It logs a
// warning once per outage, and once more when the catalogue flows again.
func (w *Watcher) Run(ctx context.Context) {
	retry := backoff.New(reconnect)
	for ctx.Err() == nil {
		received, err := w.watchOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if received {
			retry.Reset()
		}
		if !w.inOutage {
			w.logger.WarnContext(ctx, "catalogue watch broken; serving the last snapshot and retrying", "error", err)
			w.inOutage = true
		}
		if !retry.Wait(ctx) {
			return
		}
	}
}

// watchOnce reads one stream until it breaks. received tells whether at least one
// snapshot arrived, which resets the backoff.
func (w *Watcher) watchOnce(ctx context.Context) (received bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := w.registry.WatchCatalogue(ctx, &registryv1.WatchCatalogueRequest{})
	if err != nil {
		return false, err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return received, err
		}
		// Snapshots are whole, so the latest one received always wins (revisions may
		// restart when an in-memory registry restarts).
		next := Build(resp)
		old := w.current.Swap(next)
		if w.onChange != nil {
			w.onChange(old, next)
		}
		received = true
		if w.inOutage {
			w.logger.InfoContext(ctx, "catalogue watch restored", "revision", resp.GetRevision())
			w.inOutage = false
		}
	}
}
