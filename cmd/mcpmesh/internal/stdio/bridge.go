package stdio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// Limits of the bridge.
const (
	maxInFlightRequests = 64 // concurrent requests; more wait for a free slot
	maxInFlightControl  = 64 // concurrent notifications and responses, kept apart so they are never stuck behind requests
	defaultDrainTimeout = 3 * time.Second
	deleteTimeout       = 2 * time.Second
)

// bridge forwards messages between one stdio client and the mesh.
type bridge struct {
	endpoint string
	headers  http.Header
	timeout  time.Duration
	client   *http.Client
	out      *lineWriter
	log      *slog.Logger
	// drainTimeout bounds the wait for requests in flight at the end.
	drainTimeout time.Duration
	// listenBackoff is the first wait before reconnecting the GET stream.
	listenBackoff time.Duration

	params paramHeaders // x-mcp-header annotations of the tools the client listed

	requestSlots chan struct{}
	controlSlots chan struct{}
	inflight     sync.WaitGroup

	mu       sync.Mutex
	session  sessionState
	listener *listener                   // the session's GET stream, nil when none
	pending  map[string]*inflightRequest // requests in flight by compact id

	ended     chan struct{} // closed when the mesh ended the session
	endedOnce sync.Once
}

// sessionState is the stateful session the client opened with initialize.
type sessionState struct {
	id      string // Mcp-Session-Id ("" when none)
	version string // negotiated protocol version ("" before initialize)
}

// inflightRequest is a request waiting for its answer.
type inflightRequest struct {
	cancel    context.CancelFunc
	stateless bool
	cancelled bool // the client sent notifications/cancelled for it (guarded by bridge.mu)
}

func newBridge(opts options, stdout io.Writer, logger *slog.Logger) *bridge {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = maxInFlightRequests
	return &bridge{
		endpoint:      opts.endpoint,
		headers:       opts.headers,
		timeout:       opts.timeout,
		client:        &http.Client{Transport: transport},
		out:           newLineWriter(stdout),
		log:           logger,
		drainTimeout:  defaultDrainTimeout,
		listenBackoff: 250 * time.Millisecond,
		requestSlots:  make(chan struct{}, maxInFlightRequests),
		controlSlots:  make(chan struct{}, maxInFlightControl),
		pending:       map[string]*inflightRequest{},
		ended:         make(chan struct{}),
	}
}

// run forwards stdin to the mesh until stdin ends, ctx is cancelled, stdout fails or
// the mesh ends the session; then it finishes cleanly.
func (b *bridge) run(ctx context.Context, stdin io.Reader) error {
	// Work outlives ctx by the drain period: requests in flight get to finish.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()

	lines := make(chan []byte)
	stopReading := make(chan struct{})
	readDone := make(chan error, 1)
	go readLines(stdin, lines, stopReading, readDone)
	defer close(stopReading)

	b.log.InfoContext(ctx, "stdio bridge started", "url", b.endpoint)
	var initializing chan struct{} // closed when the initialize in flight is answered
	var reason string
loop:
	for {
		select {
		case <-ctx.Done():
			reason = "signal"
			break loop
		case <-b.ended:
			reason = "the mesh ended the session"
			break loop
		case <-b.out.failed:
			reason = "stdout closed"
			break loop
		case line, ok := <-lines:
			if !ok {
				if err := <-readDone; err != nil {
					b.log.WarnContext(ctx, "reading stdin failed", "error", err)
				}
				reason = "stdin closed"
				break loop
			}
			m := parseMessage(line)
			// Nothing overtakes an initialize: later messages need its session. The
			// client's answers to server requests may, since initialize may wait on one.
			if initializing != nil && m.kind != kindResponse {
				select {
				case <-initializing:
					initializing = nil
				case <-ctx.Done():
					continue
				case <-b.ended:
					continue
				}
			}
			done, ok := b.dispatch(ctx, work, m)
			if ok && m.method == mcpproto.MethodInitialize && m.statelessVersion == "" {
				initializing = done
			}
		}
	}
	b.finish(ctx, stopWork, reason)
	return nil
}

// readLines sends each non-blank line of r until r ends; then it closes lines after
// reporting the read error (nil at EOF) on done.
func readLines(r io.Reader, lines chan<- []byte, stop <-chan struct{}, done chan<- error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			select {
			case lines <- line:
			case <-stop:
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			done <- err
			close(lines)
			return
		}
	}
}

// dispatch starts forwarding m in its own goroutine once a slot is free. The returned
// channel is closed when the forwarding finished; ok is false if ctx ended first.
func (b *bridge) dispatch(ctx, work context.Context, m message) (done chan struct{}, ok bool) {
	slots := b.requestSlots
	if m.kind == kindNotification || m.kind == kindResponse {
		slots = b.controlSlots
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false
	case <-b.ended:
		return nil, false
	}
	if m.kind == kindNotification && b.cancelStateless(m) {
		<-slots
		return nil, false
	}
	done = make(chan struct{})
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		defer close(done)
		defer func() { <-slots }()
		b.forward(work, &m)
	}()
	return done, true
}

// cancelStateless handles notifications/cancelled. It marks the request so that no
// error is made up for it; for a 2026-07-28 request it closes the request's stream,
// which is how that generation cancels, and reports true: nothing is POSTed.
func (b *bridge) cancelStateless(m message) bool {
	if m.method != mcpproto.NotificationCancelled || m.cancelID == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	req := b.pending[string(m.cancelID)]
	if req == nil {
		return false
	}
	req.cancelled = true
	if req.stateless {
		req.cancel()
		return true
	}
	return false
}

// finish waits for requests in flight (bounded), stops the GET stream and deletes the
// session.
func (b *bridge) finish(ctx context.Context, stopWork context.CancelFunc, reason string) {
	b.log.InfoContext(ctx, "stdio bridge stopping", "reason", reason)
	drained := make(chan struct{})
	go func() {
		b.inflight.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(b.drainTimeout):
		b.log.WarnContext(ctx, "requests still in flight at exit; abandoning them", "waited", b.drainTimeout)
	}
	stopWork()
	<-drained

	b.mu.Lock()
	s, l := b.session, b.listener
	b.listener = nil
	b.mu.Unlock()
	if l != nil {
		l.stop()
	}
	select {
	case <-b.ended:
	default:
		if s.id != "" {
			b.deleteSession(context.WithoutCancel(ctx), s)
		}
	}
	b.client.CloseIdleConnections()
}

// endSession records that the mesh no longer knows the session, which ends the bridge.
func (b *bridge) endSession(sessionID string) {
	b.mu.Lock()
	current := b.session.id == sessionID
	b.mu.Unlock()
	if !current {
		return
	}
	b.endedOnce.Do(func() {
		b.log.Warn("the mesh no longer knows the session; exiting")
		close(b.ended)
	})
}

// currentSession returns the session later messages belong to.
func (b *bridge) currentSession() sessionState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.session
}
