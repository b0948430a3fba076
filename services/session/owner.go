package session

import (
	"context"
	"crypto/subtle"

	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
)

// ownerOf is the owner recorded for a session created under ctx: the principal's,
// scoped to the virtual server the request came through (dispatch.OwnerOf).
func ownerOf(ctx context.Context) string { return dispatch.OwnerOf(ctx) }

// owns reports whether the caller of ctx is the session's owner.
func owns(ctx context.Context, sess store.Session) bool {
	return subtle.ConstantTimeCompare([]byte(ownerOf(ctx)), []byte(sess.Owner)) == 1
}

// getOwned returns the session if the caller owns it. A session of another principal
// is answered exactly as a missing one (store.ErrNotFound), so a session id learnt
// some other way is worth nothing and tells nothing.
func (s *Service) getOwned(ctx context.Context, id string) (store.Session, error) {
	sess, err := s.backend.Store.Get(ctx, id)
	if err != nil {
		return store.Session{}, err
	}
	if !owns(ctx, sess) {
		return store.Session{}, store.ErrNotFound
	}
	return sess, nil
}
