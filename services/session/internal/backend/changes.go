package backend

import (
	"context"

	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
	"github.com/mcpmesh/mcpmesh/services/session/internal/fanout"
	"github.com/mcpmesh/mcpmesh/services/session/internal/resourcewatch"
)

// Server-initiated messages start here. Every session replica hears every catalogue
// change (through its registry watch) and every resource change (through its streams
// to the providers), and routes them:
//   - to the subscriptions/listen requests open on this replica (stateless clients);
//   - list_changed to the stateful sessions whose GET stream this replica serves
//     (another replica serves the others, and tells them itself);
//   - resources/updated to every stateful session subscribed to the resource, through
//     the event store, once per change whichever replicas record it.

// catalogueChanged runs on the catalogue watch goroutine for each new snapshot.
func (b *Backend) catalogueChanged(old, next *catalogue.Snapshot) {
	if w := b.resources.Load(); w != nil {
		w.Sync(next.Providers)
	}
	kinds := catalogue.Changed(old, next)
	if len(kinds) == 0 {
		return
	}
	ctx := context.Background()
	drafts := make([]events.Draft, 0, len(kinds))
	for _, kind := range kinds {
		b.Listeners.Publish(fanout.Notice{List: kind})
		method, params := dispatch.ChangeNotification(fanout.Notice{List: kind})
		drafts = append(drafts, events.Draft{Method: method, Params: params})
	}
	for _, id := range b.Waker.Watching() {
		if err := b.Events.Append(ctx, id, drafts...); err != nil {
			b.logger.WarnContext(ctx, "record list_changed", "error", err)
			continue
		}
		b.eventsAppended(ctx, len(drafts))
	}
	b.logger.InfoContext(ctx, "catalogue changed", "revision", next.Revision, "lists", kinds)
}

// resourceChanged runs on a provider's stream goroutine for each change it reports.
func (b *Backend) resourceChanged(ctx context.Context, c resourcewatch.Change) {
	notice := fanout.Notice{URI: c.URI}
	b.Listeners.Publish(notice)
	ids, err := b.Store.Subscribers(ctx, c.URI)
	if err != nil {
		b.logger.WarnContext(ctx, "look up resource subscribers", "uri", c.URI, "error", err)
		return
	}
	if len(ids) == 0 {
		return
	}
	method, params := dispatch.ChangeNotification(notice)
	draft := events.Draft{Method: method, Params: params}
	if c.ChangeID != "" {
		draft.Origin = c.Provider + "/" + c.ChangeID // provider names have no "/"
	}
	for _, id := range ids {
		if err := b.Events.Append(ctx, id, draft); err != nil {
			b.logger.WarnContext(ctx, "record resources/updated", "uri", c.URI, "error", err)
			continue
		}
		b.eventsAppended(ctx, 1)
	}
}
