package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// inflight maps (session, request id) to the cancel function of a provider call that
// runs in this process, so notifications/cancelled can stop it. Entries live only
// while the call runs.
type inflight struct {
	mu    sync.Mutex
	calls map[string]*inflightCall
}

type inflightCall struct{ cancel context.CancelFunc }

// requestKey normalises a JSON-RPC id (see mcpjson.NormalizeID). It returns "" for
// ids that cannot be cancelled.
func requestKey(sessionID string, id []byte) string {
	norm, ok := mcpjson.NormalizeID(id)
	if sessionID == "" || !ok {
		return ""
	}
	return sessionID + "\x00" + norm
}

// track derives a cancellable context for a call, bounded by timeout when it is
// positive (with errToolCallTimeout as the cause). done must be called when the call
// ends.
func (f *inflight) track(ctx context.Context, sessionID string, id []byte, timeout time.Duration) (context.Context, func()) {
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errToolCallTimeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	key := requestKey(sessionID, id)
	if key == "" {
		return ctx, cancel
	}
	call := &inflightCall{cancel: cancel}
	f.mu.Lock()
	f.calls[key] = call
	f.mu.Unlock()
	return ctx, func() {
		f.mu.Lock()
		// A later request may reuse the id; remove only our own entry.
		if f.calls[key] == call {
			delete(f.calls, key)
		}
		f.mu.Unlock()
		cancel()
	}
}

// cancel stops the call, if it runs here, and reports whether it did.
func (f *inflight) cancel(sessionID string, id []byte) bool {
	key := requestKey(sessionID, id)
	if key == "" {
		return false
	}
	return f.cancelKey(key)
}

// cancelKey is cancel for a key made by requestKey.
func (f *inflight) cancelKey(key string) bool {
	f.mu.Lock()
	call, ok := f.calls[key]
	delete(f.calls, key)
	f.mu.Unlock()
	if ok {
		call.cancel()
	}
	return ok
}

// size counts running tracked calls (for tests).
func (f *inflight) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}
