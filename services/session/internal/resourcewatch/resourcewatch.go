// Package resourcewatch keeps one WatchResources stream open to each provider in the
// routing table and reports every resource change it hears. Each session replica runs
// one, so every replica hears every change; providers whose resources never change
// answer Unimplemented and are left alone until their address changes.
package resourcewatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/backoff"
	"github.com/mcpmesh/mcpmesh/services/kit/namedservice"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// reconnect bounds the waits between reconnection attempts after a stream breaks.
var reconnect = backoff.Config{Min: 200 * time.Millisecond, Max: 10 * time.Second}

// Conns hands out connections to providers by address.
type Conns interface {
	Conn(target string) (grpc.ClientConnInterface, error)
}

// Change is one resource change heard from a provider.
type Change struct {
	Provider string
	URI      string
	ChangeID string
}

// Watcher manages the streams. Sync and Stop are safe for concurrent use.
type Watcher struct {
	conns    Conns
	logger   *slog.Logger
	onChange func(context.Context, Change)

	mu      sync.Mutex
	ctx     context.Context
	streams map[string]*stream // by provider name
	wg      sync.WaitGroup
}

type stream struct {
	address string
	cancel  context.CancelFunc
}

// New returns a watcher whose streams run under ctx and report to onChange (called
// from the stream's goroutine).
func New(ctx context.Context, conns Conns, logger *slog.Logger, onChange func(context.Context, Change)) *Watcher {
	return &Watcher{conns: conns, logger: logger, onChange: onChange, ctx: ctx, streams: map[string]*stream{}}
}

// Sync makes the open streams match providers (name to address): new providers get
// a stream, departed ones or ones whose address changed lose theirs.
func (w *Watcher) Sync(providers map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx.Err() != nil {
		return
	}
	for name, s := range w.streams {
		if addr, ok := providers[name]; !ok || addr != s.address {
			s.cancel()
			delete(w.streams, name)
		}
	}
	for name, addr := range providers {
		if _, ok := w.streams[name]; ok || addr == "" {
			continue
		}
		ctx, cancel := context.WithCancel(w.ctx)
		w.streams[name] = &stream{address: addr, cancel: cancel}
		w.wg.Go(func() { w.run(ctx, name, addr) })
	}
}

// Wait blocks until every stream has ended (after the watcher's context ended).
func (w *Watcher) Wait() { w.wg.Wait() }

// Len counts the providers being watched.
func (w *Watcher) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.streams)
}

// run keeps one provider's stream open until ctx ends or the provider says it has no
// such stream.
func (w *Watcher) run(ctx context.Context, name, addr string) {
	retry := backoff.New(reconnect)
	for ctx.Err() == nil {
		heard, err := w.watchOnce(ctx, name, addr)
		if ctx.Err() != nil {
			return
		}
		if status.Code(err) == codes.Unimplemented {
			w.logger.DebugContext(ctx, "provider has no resource change stream", "provider", name)
			return
		}
		if heard {
			retry.Reset()
		}
		wait := retry.Next()
		w.logger.DebugContext(ctx, "resource change stream broken; retrying", "provider", name, "error", err, "backoff", wait)
		if !backoff.Sleep(ctx, wait) {
			return
		}
	}
}

func (w *Watcher) watchOnce(ctx context.Context, name, addr string) (heard bool, err error) {
	conn, err := w.conns.Conn(addr)
	if err != nil {
		return false, err
	}
	s, err := providerv1.NewProviderServiceClient(namedservice.Conn(conn, name)).WatchResources(ctx, &providerv1.WatchResourcesRequest{})
	if err != nil {
		return false, err
	}
	for {
		msg, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return heard, errors.New("provider ended the stream")
		}
		if err != nil {
			return heard, err
		}
		heard = true
		if msg.GetUri() == "" {
			continue
		}
		w.onChange(ctx, Change{Provider: name, URI: msg.GetUri(), ChangeID: msg.GetChangeId()})
	}
}
