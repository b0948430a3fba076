package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// One upstream session per caller. A token_exchange upstream of a generation that
// keeps sessions (before 2026-07-28, with an Mcp-Session-Id) may bind each session to
// the user who opened it, and refuse everybody else's requests on it (the Go SDK's
// "session user mismatch"). The requests made for a caller (onBehalf) therefore go
// over a session of that caller, opened with the caller's exchanged token and the same
// client as the federation's own (connect); the federation's session keeps the
// catalogue, the subscriptions and list_changed.
//
// The sessions of one connection of the upstream are kept per caller (callerKey, as
// the exchanger keeps tokens), at most CallerSessionSettings.Max: past it, the least
// recently used idle one is closed. A session unused for IdleTimeout is closed; all
// are closed when the federation's connection ends (a reconnect, the upstream's
// deletion, the service's stop). Concurrent first calls of a caller wait for one
// handshake. Each request of a call carries the caller's freshest token; the session's
// own requests (its GET stream, the DELETE that ends it) carry the last one.

// callerSessions are the callers' sessions of one connection of the upstream.
type callerSessions struct {
	u        *upstream
	settings CallerSessionSettings
	// ctx ends the handshakes in flight when the sessions are closed.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // handshakes, watchers and closes

	mu       sync.Mutex
	byCaller map[callerKey]*callerSession
	closed   bool
}

// callerSession is the session of one caller, open or opening.
type callerSession struct {
	pool  *callerSessions
	key   callerKey
	token atomic.Pointer[string] // the caller's last token

	ready   chan struct{} // closed once the handshake ended
	session *mcp.ClientSession
	closeFn func()
	err     error // of the handshake

	// Guarded by pool.mu.
	inUse    int
	lastUsed time.Time
	idle     *time.Timer
	gone     bool // no longer in the pool
}

// errTooManyCallers fails a call of a new caller while every session is busy.
var errTooManyCallers = errors.New("too many callers at once")

// callerSessionError is a caller's session that could not be opened: the call fails
// with a message that says so (never over the federation's session).
type callerSessionError struct {
	err error
	// refused is the upstream's 401 or 403 to the handshake: it refused the caller,
	// and is up (the breaker does not count it).
	refused int
}

func (e *callerSessionError) Error() string {
	if e.refused != 0 {
		return fmt.Sprintf("the upstream refused a session of the caller (%d %s)", e.refused, http.StatusText(e.refused))
	}
	return "cannot open a session of the caller: " + e.err.Error()
}

func (e *callerSessionError) Unwrap() error { return e.err }

// callerSessionsOf returns the callers' sessions of connection s, or nil when its
// requests go over s: an upstream without token_exchange, or one that keeps no
// sessions (2026-07-28, or an earlier one without a session id).
func (u *upstream) callerSessionsOf(s *mcp.ClientSession) *callerSessions {
	if !u.cfg.Auth.TokenExchange.configured() || s.ID() == "" || s.InitializeResult().ProtocolVersion >= statelessVersion {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &callerSessions{u: u, settings: u.settings.CallerSessions, ctx: ctx, cancel: cancel, byCaller: map[callerKey]*callerSession{}}
}

// acquire returns c's session, opening it if need be, for one request; release ends
// the request's use of it.
func (p *callerSessions) acquire(ctx context.Context, c caller) (*callerSession, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", p.u.cfg.Name, errDisconnected)
	}
	cs := p.byCaller[c.key]
	if cs == nil {
		if len(p.byCaller) >= p.settings.Max && !p.evictLocked() {
			p.mu.Unlock()
			return nil, &callerSessionError{err: fmt.Errorf("%w: all %d sessions with the upstream are busy", errTooManyCallers, p.settings.Max)}
		}
		cs = &callerSession{pool: p, key: c.key, ready: make(chan struct{})}
		cs.token.Store(&c.token) // the handshake's
		p.byCaller[c.key] = cs
		p.wg.Go(func() { p.open(cs) })
	}
	cs.token.Store(&c.token)
	cs.inUse++
	if cs.idle != nil {
		cs.idle.Stop()
		cs.idle = nil
	}
	p.mu.Unlock()
	select {
	case <-cs.ready:
	case <-ctx.Done():
		p.release(cs)
		return nil, ctx.Err()
	}
	if cs.err != nil {
		p.release(cs)
		return nil, cs.err
	}
	return cs, nil
}

// open makes cs's handshake, on its own (a caller that goes away does not end it for
// the others waiting), bounded by the connect timeout and by the pool's end.
func (p *callerSessions) open(cs *callerSession) {
	refused := &refusals{}
	s, closeFn, err := p.u.connect(watchRefusals(p.ctx, refused), cs)
	p.mu.Lock()
	defer p.mu.Unlock()
	defer close(cs.ready)
	if err != nil {
		cs.err = &callerSessionError{err: err}
		if st := int(refused.status.Load()); st == http.StatusUnauthorized || st == http.StatusForbidden {
			cs.err = &callerSessionError{err: err, refused: st}
		}
		p.forgetLocked(cs) // the next call tries again
		p.u.logger.WarnContext(p.ctx, "cannot open a session of the caller with the upstream", "principal_iss", cs.key.issuer, "sub", cs.key.subject, "error", err)
		return
	}
	cs.session, cs.closeFn = s, closeFn
	if p.closed || cs.gone {
		cs.err = &callerSessionError{err: fmt.Errorf("%s: %w", p.u.cfg.Name, errDisconnected)}
		p.wg.Go(closeFn)
		return
	}
	p.u.logger.DebugContext(p.ctx, "opened a session of the caller with the upstream", "principal_iss", cs.key.issuer, "sub", cs.key.subject)
	if cs.inUse == 0 { // the calls that waited for it went away
		p.idleLocked(cs)
	}
	// A session the upstream ends (it expired, the upstream restarted) leaves the pool
	// at once: the caller's next call opens another.
	p.wg.Go(func() {
		_ = s.Wait()
		p.mu.Lock()
		p.forgetLocked(cs)
		p.mu.Unlock()
		closeFn()
	})
}

// release ends one request's use of cs; a session left unused for the idle timeout
// is closed.
func (p *callerSessions) release(cs *callerSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs.inUse--
	cs.lastUsed = time.Now()
	if cs.inUse == 0 && !cs.gone && cs.session != nil {
		p.idleLocked(cs)
	}
}

// idleLocked closes cs once unused for the idle timeout.
func (p *callerSessions) idleLocked(cs *callerSession) {
	cs.idle = time.AfterFunc(p.settings.IdleTimeout, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if cs.inUse == 0 && time.Since(cs.lastUsed) >= p.settings.IdleTimeout {
			p.retireLocked(cs)
		}
	})
}

// discard closes cs, which the upstream no longer knows.
func (p *callerSessions) discard(cs *callerSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retireLocked(cs)
}

// evictLocked closes the least recently used open session no request uses; false if
// there is none.
func (p *callerSessions) evictLocked() bool {
	var lru *callerSession
	for _, cs := range p.byCaller {
		if cs.inUse == 0 && cs.session != nil && (lru == nil || cs.lastUsed.Before(lru.lastUsed)) {
			lru = cs
		}
	}
	if lru == nil {
		return false
	}
	p.retireLocked(lru)
	return true
}

// retireLocked takes cs out of the pool and closes it (its DELETE carries the
// caller's last token); the watcher of an open session closes it once it ended.
func (p *callerSessions) retireLocked(cs *callerSession) {
	if cs.gone {
		return
	}
	p.forgetLocked(cs)
	if cs.session != nil {
		p.wg.Go(func() { _ = cs.session.Close() })
	}
}

// forgetLocked takes cs out of the pool.
func (p *callerSessions) forgetLocked(cs *callerSession) {
	if p.byCaller[cs.key] == cs {
		delete(p.byCaller, cs.key)
	}
	cs.gone = true
	if cs.idle != nil {
		cs.idle.Stop()
		cs.idle = nil
	}
}

// close closes every session, ends the handshakes in flight, and waits until all is
// closed. The pool takes no more callers; nil is a pool with nothing to close.
func (p *callerSessions) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	for _, cs := range p.byCaller {
		p.retireLocked(cs)
	}
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// size is how many sessions are open or opening.
func (p *callerSessions) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byCaller)
}

// lastToken is the token the session's own requests carry.
func (cs *callerSession) lastToken() string {
	if t := cs.token.Load(); t != nil {
		return *t
	}
	return ""
}

// refusals notes the HTTP status of the upstream's last refusal (4xx) of a request
// made with a context that watches for it: a 404 of a call's request on a caller's
// session (the upstream no longer knows the session, and the request never ran), a 401
// or 403 of a caller's handshake (the upstream refused the caller).
type refusals struct{ status atomic.Int32 }

type refusalsKey struct{}

func watchRefusals(ctx context.Context, r *refusals) context.Context {
	return context.WithValue(ctx, refusalsKey{}, r)
}

// noteRefusal records status for the request of ctx, if it watches for refusals.
func noteRefusal(ctx context.Context, status int) {
	if r, ok := ctx.Value(refusalsKey{}).(*refusals); ok {
		r.status.Store(int32(status)) //nolint:gosec // an HTTP status
	}
}
