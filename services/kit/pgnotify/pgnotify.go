package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/backoff"
)

// Defaults of Settings.
const (
	DefaultPollInterval    = 2 * time.Second
	DefaultMinBackoff      = 100 * time.Millisecond
	DefaultMaxBackoff      = 5 * time.Second
	DefaultApplicationName = "mcpmesh-listen"
)

// closeTimeout bounds closing a connection, which sends a Terminate message.
const closeTimeout = 5 * time.Second

// Handler receives the payload of one notification. It runs on the Listener's
// goroutine and must not block: hand work over (a non-blocking send, a flag), do not
// query the database from it.
type Handler func(payload string)

// Settings configure a Listener. Zero durations mean the defaults.
type Settings struct {
	// Handlers maps each channel to listen on to its handler.
	Handlers map[string]Handler
	// OnResync runs after every (re)connect, once LISTEN is in place, and every
	// PollInterval, also while the connection is down. Like a Handler it must not
	// block.
	OnResync func()
	// PollInterval bounds how late a lost notification is made up for.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts, which
	// doubles from MinBackoff up to MaxBackoff while attempts fail.
	MinBackoff, MaxBackoff time.Duration
	// ApplicationName names the connection in pg_stat_activity (default
	// DefaultApplicationName).
	ApplicationName string
	// Logger reports lost connections (nil: discard).
	Logger *slog.Logger
}

// Listener is one replica's LISTEN connection. Create it with New, run it with Run.
type Listener struct {
	connConfig *pgx.ConnConfig
	handlers   map[string]Handler
	onResync   func()
	poll       time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration
	logger     *slog.Logger
	healthy    atomic.Bool
}

// New returns a Listener connecting with a copy of connConfig, which must come from
// pgx.ParseConfig (a pool's: pool.Config().ConnConfig). The handlers are copied too.
func New(connConfig *pgx.ConnConfig, s Settings) *Listener {
	cfg := connConfig.Copy()
	if s.ApplicationName == "" {
		s.ApplicationName = DefaultApplicationName
	}
	cfg.RuntimeParams["application_name"] = s.ApplicationName
	// Waiting with a deadline must interrupt the read only, never cancel on the
	// server or close the connection (this is pgx's default; the pool's config may
	// have another).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	handlers := make(map[string]Handler, len(s.Handlers))
	for ch, h := range s.Handlers {
		handlers[ch] = h
	}
	l := &Listener{
		connConfig: cfg,
		handlers:   handlers,
		onResync:   s.OnResync,
		poll:       orDefault(s.PollInterval, DefaultPollInterval),
		minBackoff: orDefault(s.MinBackoff, DefaultMinBackoff),
		maxBackoff: orDefault(s.MaxBackoff, DefaultMaxBackoff),
		logger:     s.Logger,
	}
	l.maxBackoff = max(l.maxBackoff, l.minBackoff)
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	return l
}

// NewFromPool is New with the pool's connection settings.
func NewFromPool(pool *pgxpool.Pool, s Settings) *Listener {
	return New(pool.Config().ConnConfig, s)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Healthy reports whether the connection is up and listening.
func (l *Listener) Healthy() bool { return l.healthy.Load() }

// Run connects, listens and dispatches until ctx ends, reconnecting after every
// failure. It returns when ctx is done, with the connection closed.
func (l *Listener) Run(ctx context.Context) {
	// Up to 20% jitter off each wait, so that replicas do not reconnect in lockstep.
	retry := backoff.New(backoff.Config{Min: l.minBackoff, Max: l.maxBackoff, Jitter: 0.2})
	for {
		conn, err := l.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.logger.WarnContext(ctx, "database notification listener cannot connect; retrying", "attempt", retry.Attempts()+1, "error", err)
		} else {
			connected := time.Now()
			l.healthy.Store(true)
			l.resync()
			err = l.serve(ctx, conn)
			l.healthy.Store(false)
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
			_ = conn.Close(closeCtx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			l.logger.WarnContext(ctx, "database notification listener lost its connection; reconnecting", "error", err)
			if time.Since(connected) >= l.maxBackoff {
				retry.Reset() // it was up for a while: not a failing streak
			}
		}
		if !l.waitToReconnect(ctx, retry.Next()) {
			return
		}
	}
}

// waitToReconnect waits d, resyncing every poll interval meanwhile: the callers'
// catch-up reads the shared tables through their own pool, so while this connection
// is down nothing waits longer than a poll interval for it. It reports false when ctx
// ended.
func (l *Listener) waitToReconnect(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	poll := time.NewTicker(l.poll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case <-poll.C:
			l.resync()
		}
	}
}

// connect opens the dedicated connection and listens on every channel.
func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.connConfig)
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	for ch := range l.handlers {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
			_ = conn.Close(closeCtx)
			cancel()
			return nil, fmt.Errorf("listen on %s: %w", ch, err)
		}
	}
	return conn, nil
}

// serve dispatches notifications until the connection fails or ctx ends, resyncing
// every poll interval.
func (l *Listener) serve(ctx context.Context, conn *pgx.Conn) error {
	nextPoll := time.Now().Add(l.poll)
	for {
		waitCtx, cancel := context.WithDeadline(ctx, nextPoll)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			if h := l.handlers[n.Channel]; h != nil {
				h(n.Payload)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// The poll deadline: the connection is fine.
		default:
			return err
		}
		if !time.Now().Before(nextPoll) {
			l.resync()
			nextPoll = time.Now().Add(l.poll)
		}
	}
}

func (l *Listener) resync() {
	if l.onResync != nil {
		l.onResync()
	}
}
