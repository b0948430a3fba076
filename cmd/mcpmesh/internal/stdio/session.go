package stdio

import (
	"context"
	"net/http"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/backoff"
)

// maxListenFailures is how many GET attempts in a row may fail before the bridge
// gives up on the session's stream.
const maxListenFailures = 5

// maxListenBackoff caps the wait between GET attempts.
const maxListenBackoff = 5 * time.Second

// openSession records the session an initialize answer opened. A second initialize
// from the same client replaces the first session, which is closed.
func (b *bridge) openSession(s sessionState) {
	b.mu.Lock()
	old, oldListener := b.session, b.listener
	b.session = s
	if old.id != s.id {
		b.listener = nil
	}
	b.mu.Unlock()
	b.log.Debug("session opened", "protocol_version", s.version, "has_session_id", s.id != "")
	if old.id == "" || old.id == s.id {
		return
	}
	// Still inside a forward goroutine, so the wait group is above zero.
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		if oldListener != nil {
			oldListener.stop()
		}
		b.deleteSession(context.Background(), old)
	}()
}

// listener is a running GET stream.
type listener struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// startListener opens the session's GET stream unless it is open already.
func (b *bridge) startListener(s sessionState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.id == "" || b.session.id != s.id || b.listener != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cancel: cancel, done: make(chan struct{})}
	b.listener = l
	go func() {
		defer close(l.done)
		b.listen(ctx, b.session)
	}()
}

// listen keeps the session's GET stream open and relays what the mesh sends on it:
// reconnecting with Last-Event-ID after a drop, after the stream's retry time or with
// a growing backoff; giving up after maxListenFailures failed attempts in a row. 405
// means the mesh offers no such stream; 404 means the session is gone.
func (b *bridge) listen(ctx context.Context, s sessionState) {
	lastEventID := ""
	failures := 0
	pace := b.reconnectPacing()
	for {
		var retry time.Duration
		resp, err := b.get(ctx, s, lastEventID)
		switch {
		case ctx.Err() != nil:
			if resp != nil {
				closeBody(resp)
			}
			return
		case err != nil:
			failures++
			b.log.Debug("opening the session's GET stream failed", "error", err, "attempt", failures)
		case resp.StatusCode == http.StatusMethodNotAllowed:
			closeBody(resp)
			b.log.Debug("the mesh offers no GET stream")
			return
		case resp.StatusCode == http.StatusNotFound:
			closeBody(resp)
			b.endSession(s.id)
			return
		case resp.StatusCode == http.StatusOK:
			failures = 0
			pace.Reset()
			_, err := b.pump(ctx, resp.Body, nil, s, &lastEventID, &retry)
			closeBody(resp)
			if ctx.Err() != nil {
				return
			}
			b.log.Debug("the session's GET stream ended; reconnecting", "error", err, "last_event_id", lastEventID)
		default:
			failures++
			b.log.Warn("the mesh refused the session's GET stream", "http_status", resp.StatusCode, "attempt", failures)
			closeBody(resp)
		}
		if failures >= maxListenFailures {
			b.log.Warn("giving up on the session's GET stream; server-initiated messages arrive only on request streams")
			return
		}
		if !backoff.Sleep(ctx, nextWait(retry, pace)) {
			return
		}
	}
}

// reconnectPacing is the backoff between attempts to open a GET stream.
func (b *bridge) reconnectPacing() *backoff.Backoff {
	return backoff.New(backoff.Config{Min: b.listenBackoff, Max: maxListenBackoff})
}

// nextWait is the wait before the next GET: the stream's own retry time when it sent
// one (SSE retry field), else the backoff's.
func nextWait(retry time.Duration, pace *backoff.Backoff) time.Duration {
	if retry > 0 {
		return retry
	}
	return pace.Next()
}

// resume picks up a POST's event stream that broke off before its answer: GET with
// Last-Event-ID, a few times. It reports whether the answer came.
func (b *bridge) resume(ctx context.Context, m *message, s sessionState, lastEventID string) bool {
	pace := b.reconnectPacing()
	for attempt := 1; attempt <= maxResumes && ctx.Err() == nil; attempt++ {
		var retry time.Duration
		resp, err := b.get(ctx, s, lastEventID)
		if err == nil && resp.StatusCode == http.StatusOK {
			answered, _ := b.pump(ctx, resp.Body, m, s, &lastEventID, &retry)
			closeBody(resp)
			if answered {
				return true
			}
		} else if err == nil {
			closeBody(resp)
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
				return false
			}
		}
		b.log.Debug("resuming a request's stream", "id", string(m.id), "attempt", attempt, "error", err)
		if !backoff.Sleep(ctx, nextWait(retry, pace)) {
			return false
		}
	}
	return false
}

// get opens an event stream of the session.
func (b *bridge) get(ctx context.Context, s sessionState, lastEventID string) (*http.Response, error) {
	req, err := b.newRequest(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	setSessionHeaders(req.Header, s)
	if lastEventID != "" {
		req.Header.Set(headerLastEventID, lastEventID)
	}
	return b.client.Do(req)
}

// deleteSession ends the session on the mesh (bounded wait; failures are logged).
func (b *bridge) deleteSession(ctx context.Context, s sessionState) {
	ctx, cancel := context.WithTimeout(ctx, deleteTimeout)
	defer cancel()
	req, err := b.newRequest(ctx, http.MethodDelete, nil)
	if err != nil {
		b.log.Warn("deleting the session failed", "error", err)
		return
	}
	setSessionHeaders(req.Header, s)
	resp, err := b.client.Do(req)
	if err != nil {
		b.log.Warn("deleting the session failed", "error", err)
		return
	}
	closeBody(resp)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		b.log.Debug("session deleted")
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusMethodNotAllowed:
		b.log.Debug("session not deleted", "http_status", resp.StatusCode)
	default:
		b.log.Warn("deleting the session failed", "http_status", resp.StatusCode)
	}
}
