package registry

import (
	"context"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
)

// notifyChannel carries "the shared provider records changed" between registry
// replicas. The payload is empty: a replica that hears it re-reads every record.
const notifyChannel = "mcpmesh_registry"

// publishChangeLocked publishes after this replica wrote the store, and tells the
// other replicas to re-read it. s.mu must be held.
func (s *Service) publishChangeLocked(ctx context.Context) error {
	err := s.publishLocked(ctx)
	if s.db != nil {
		// A lost notification only delays the others until their next refresh, so a
		// failure here is logged, not returned.
		if _, nerr := s.db.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); nerr != nil {
			s.log.WarnContext(ctx, "notify registry replicas", "error", nerr)
		}
	}
	return err
}

// requestRefresh asks the refresh loop to re-read the shared records soon. It never
// blocks: requests that arrive while one is pending coalesce.
func (s *Service) requestRefresh() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

// newListener hears the other replicas' changes. Its own poll is not needed (the
// refresh loop has one), so it only resyncs after a (re)connect.
func (s *Service) newListener() *pgnotify.Listener {
	return pgnotify.NewFromPool(s.db, pgnotify.Settings{
		Handlers:     map[string]pgnotify.Handler{notifyChannel: func(string) { s.requestRefresh() }},
		OnResync:     s.requestRefresh,
		PollInterval: 24 * time.Hour,
		Logger:       s.log,
	})
}
