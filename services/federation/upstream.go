package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/backoff"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
)

// clientInfo is how the federation introduces itself to upstreams.
var clientInfo = &mcp.Implementation{Name: "mcpmesh-federation", Version: "0.1.0"}

// upstream is one upstream server: its connection, kept alive by run, and the
// ProviderService the mesh calls for it (provider.go).
type upstream struct {
	providerv1.UnimplementedProviderServiceServer

	cfg      Upstream
	settings Config
	logger   *slog.Logger
	breakers *breaker.Breakers

	// changed signals a catalogue change (list_changed from the upstream, or a new
	// connection) to the registration, which asks the registry to describe it again.
	changed chan struct{}
	// announced are the lists the upstream said changed, for the next refresh
	// (announce.go).
	announced pendingLists
	// watchers are the mesh's WatchResources streams; stopping ends them.
	watchers watchers
	stopping <-chan struct{}

	mu      sync.RWMutex
	session *mcp.ClientSession // nil while disconnected
	// callers are the callers' own sessions of a token_exchange upstream that keeps
	// sessions, which end with session (callersession.go); nil otherwise.
	callers *callerSessions
	calls   map[uint64]*callSink
	nextID  uint64
	// forwarded are the tool calls and prompts running upstream; paused those waiting
	// for the client's input, by request state token (relay.go).
	forwarded map[*forwardedCall]struct{}
	paused    map[string]*pausedCall
	// refs name the forwarded calls in their requests' _meta; sighted are the
	// session-level requests the tap saw on a call's response stream, by method and
	// params, not yet handled (attribute.go).
	refs    map[string]*forwardedCall
	sighted map[string][]*forwardedCall
	// sessionOptions are those of each connection (nil in production; tests pin a
	// protocol version with them).
	sessionOptions *mcp.ClientSessionOptions
}

func newUpstream(cfg Upstream, settings Config, logger *slog.Logger, breakers *breaker.Breakers) *upstream {
	return &upstream{
		cfg: cfg, settings: settings, breakers: breakers,
		logger:    logger.With("upstream", cfg.Name),
		changed:   make(chan struct{}, 1),
		calls:     map[uint64]*callSink{},
		forwarded: map[*forwardedCall]struct{}{},
		paused:    map[string]*pausedCall{},
		refs:      map[string]*forwardedCall{},
		sighted:   map[string][]*forwardedCall{},
	}
}

// errDisconnected answers calls while the upstream is not connected.
var errDisconnected = errors.New("upstream not connected")

// current is the live session, or errDisconnected.
func (u *upstream) current() (*mcp.ClientSession, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if u.session == nil {
		return nil, fmt.Errorf("%s: %w", u.cfg.Name, errDisconnected)
	}
	return u.session, nil
}

// currentFor is the live connection a request for ctx goes over: the caller's own
// session when ctx names a caller (onBehalf) and the upstream keeps sessions, else
// the federation's. release ends the request's use of it.
func (u *upstream) currentFor(ctx context.Context) (conn upstreamConn, release func(), err error) {
	u.mu.RLock()
	s, callers := u.session, u.callers
	u.mu.RUnlock()
	if s == nil {
		return upstreamConn{}, nil, fmt.Errorf("%s: %w", u.cfg.Name, errDisconnected)
	}
	c, ok := callerOf(ctx)
	if !ok || callers == nil {
		return upstreamConn{session: s}, func() {}, nil
	}
	cs, err := callers.acquire(ctx, c)
	if err != nil {
		return upstreamConn{}, nil, err
	}
	return upstreamConn{session: cs.session, caller: cs}, func() { callers.release(cs) }, nil
}

// upstreamConn is a connection a request goes over: the federation's own session
// (caller nil), or a caller's.
type upstreamConn struct {
	session *mcp.ClientSession
	caller  *callerSession
}

// setSession makes s the live connection, with the sessions of its callers; nil, nil
// while disconnected.
func (u *upstream) setSession(s *mcp.ClientSession, callers *callerSessions) {
	u.mu.Lock()
	u.session, u.callers = s, callers
	u.mu.Unlock()
}

// signalChanged asks for a registry refresh; one pending signal is enough.
func (u *upstream) signalChanged() {
	select {
	case u.changed <- struct{}{}:
	default:
	}
}

// timeout is the bound of one request to the upstream.
func (u *upstream) timeout() time.Duration {
	if u.cfg.CallTimeout > 0 {
		return u.cfg.CallTimeout
	}
	return u.settings.CallTimeout
}

// connect opens a client session with the upstream (initialize, or server/discover
// for the 2026-07-28 generation, as the SDK negotiates): the federation's own (owner
// nil), which subscribes to the upstream's resources, or one of a caller of a
// token_exchange upstream (callersession.go), whose requests carry that caller's
// token. Both relay the upstream's requests for client input and tap its progress and
// log messages alike. The returned function closes the session; it may be called
// more than once.
func (u *upstream) connect(ctx context.Context, owner *callerSession) (*mcp.ClientSession, func(), error) {
	// Transports keep the context they connect with for the connection's life (the
	// legacy SSE stream is a GET made with it): it ends when the session is closed, or
	// when the handshake takes longer than the connect timeout.
	connCtx, endConn := context.WithCancel(context.WithoutCancel(ctx))
	handshake := time.AfterFunc(u.settings.ConnectTimeout, endConn)
	defer handshake.Stop()
	stop := context.AfterFunc(ctx, endConn) // the service stopping ends a handshake too
	defer stop()
	var last func() string
	if owner != nil {
		last = owner.lastToken
	}
	onLine := func(line []byte) { u.onNotification(owner, line) }
	t, closer, err := u.cfg.transport(connCtx, u.logger, onLine, u.callRefIn, last)
	if err != nil {
		endConn()
		return nil, nil, err
	}
	s, err := u.newClient().Connect(connCtx, t, u.sessionOptions)
	if err != nil {
		endConn()
		_ = closer.Close()
		return nil, nil, err
	}
	if !handshake.Stop() {
		// The timer fired as the handshake ended: the connection's context is gone.
		_ = s.Close()
		endConn()
		_ = closer.Close()
		return nil, nil, fmt.Errorf("handshake took longer than %s", u.settings.ConnectTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, u.settings.ConnectTimeout)
	defer cancel()
	// Ask for every log message; each call's stream gets those at its client's level.
	// (Logging is deprecated from 2026-07-28 on, but stateful upstreams still have it.)
	if caps := s.InitializeResult().Capabilities; caps != nil && caps.Logging != nil { //nolint:staticcheck // see above
		if err := s.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil { //nolint:staticcheck // see above
			u.logger.DebugContext(ctx, "upstream refused logging/setLevel", "error", err)
		}
	}
	if owner == nil {
		u.subscribeAll(ctx, s)
	}
	var once sync.Once
	return s, func() { once.Do(func() { _ = s.Close(); endConn(); _ = closer.Close() }) }, nil
}

// newClient is the SDK client of every connection to the upstream.
func (u *upstream) newClient() *mcp.Client {
	client := mcp.NewClient(clientInfo, &mcp.ClientOptions{
		Logger:                     u.logger,
		ToolListChangedHandler:     u.onToolListChanged,
		PromptListChangedHandler:   u.onPromptListChanged,
		ResourceListChangedHandler: u.onResourceListChanged,
		ResourceUpdatedHandler:     u.onResourceUpdated,
		// Progress and log messages are tapped from the byte stream (tap.go).
		// Requests for client input are relayed to the mesh's client (relay.go). The
		// handler with tools sees sampling requests as sent; only plain sampling is
		// declared, and roots without list_changed (the mesh's clients' changes of
		// roots are not forwarded).
		Capabilities: &mcp.ClientCapabilities{
			Sampling: &mcp.SamplingCapabilities{}, //nolint:staticcheck // sampling is deprecated from 2026-07-28, not gone: upstreams still ask
			RootsV2:  &mcp.RootCapabilities{},     //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
		},
		CreateMessageWithToolsHandler: u.relayCreateMessage, //nolint:staticcheck // sampling is deprecated from 2026-07-28, not gone: upstreams still ask
		// Set so that elicitation is declared; relayAsSent answers before it runs.
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "elicitation/create is relayed before this handler"}
		},
		// A 2026-07-28 upstream's input_required results are relayed, not fulfilled here.
		MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true},
	})
	client.AddReceivingMiddleware(u.relayAsSent)
	return client
}

// run keeps the upstream connected until ctx ends: it connects, and reconnects with
// backoff when the connection ends or a ping fails (a stdio upstream is started
// again each time). register runs from the first connection until ctx ends: the
// provider stays registered while the upstream is away (health reports it down and
// its calls fail at once), so that its tools do not vanish and come back with every
// blip; each new connection refreshes its catalogue.
func (u *upstream) run(ctx context.Context, health func(serving bool), register func(ctx context.Context)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	registered := false
	retry := backoff.New(backoff.Config{Min: u.settings.ReconnectMin, Max: u.settings.ReconnectMax})
	for ctx.Err() == nil {
		s, closeSession, err := u.connect(ctx, nil)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := retry.Next()
			if n := retry.Attempts(); n&(n-1) == 0 {
				u.logger.WarnContext(ctx, "cannot connect to upstream; retrying", "attempts", n, "backoff", wait, "error", err)
			}
			health(false)
			if !backoff.Sleep(ctx, wait) {
				return
			}
			continue
		}
		u.logger.InfoContext(ctx, "connected to upstream", "protocol_version", s.InitializeResult().ProtocolVersion,
			"server", s.InitializeResult().ServerInfo.Name, "after_attempts", retry.Attempts())
		retry.Reset()
		callers := u.callerSessionsOf(s)
		u.setSession(s, callers)
		u.signalChanged()
		health(true)
		if !registered {
			registered = true
			wg.Go(func() { register(ctx) })
		}
		why := u.serve(ctx, s)
		u.setSession(nil, nil)
		callers.close() // the callers' sessions end with the connection they belong to
		closeSession()
		if ctx.Err() != nil {
			return
		}
		health(false)
		u.logger.WarnContext(ctx, "upstream connection lost; reconnecting", "error", why)
		if !backoff.Sleep(ctx, retry.Next()) {
			return
		}
	}
}

// serve waits while s lives and returns why it ended: the connection closed, a ping
// failed, or ctx ended.
func (u *upstream) serve(ctx context.Context, s *mcp.ClientSession) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ended := make(chan error, 1)
	wg.Go(func() {
		err := s.Wait()
		if err == nil {
			err = errors.New("connection closed")
		}
		ended <- err
	})
	var tick <-chan time.Time
	if u.settings.PingInterval > 0 {
		t := time.NewTicker(u.settings.PingInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			_ = s.Close() // ends the Wait above
			return ctx.Err()
		case err := <-ended:
			return err
		case <-tick:
			if err := u.ping(ctx, s); err != nil {
				_ = s.Close()
				return fmt.Errorf("ping: %w", err)
			}
		}
	}
}

// ping checks that the upstream answers. The 2026-07-28 generation has no ping: a
// one-page list of what the upstream offers stands in for it.
func (u *upstream) ping(ctx context.Context, s *mcp.ClientSession) error {
	ctx, cancel := context.WithTimeout(ctx, min(u.timeout(), u.settings.PingInterval))
	defer cancel()
	init := s.InitializeResult()
	if init.ProtocolVersion < statelessVersion {
		return s.Ping(ctx, nil)
	}
	var err error
	switch caps := init.Capabilities; {
	case caps == nil:
	case caps.Tools != nil:
		_, err = s.ListTools(ctx, nil)
	case caps.Prompts != nil:
		_, err = s.ListPrompts(ctx, nil)
	case caps.Resources != nil:
		_, err = s.ListResources(ctx, nil)
	}
	return err
}

// statelessVersion is the first protocol version without ping and sessions.
const statelessVersion = "2026-07-28"
