package grpcserver

import (
	"context"
	"time"

	"google.golang.org/grpc/stats"
)

// rpcStats is one side of one in-process call as its stats handler sees it: tagged
// and begun like a network call, then ended. The zero value records nothing, so an
// uninstrumented channel pays nothing.
type rpcStats struct {
	handler stats.Handler
	client  bool
	begin   time.Time
}

// beginClient tags and begins the caller's side. The returned context carries the
// client span and the trace context in outgoing metadata, which serverContext turns
// into the incoming metadata the server side continues from.
func (c *inprocChannel) beginClient(ctx context.Context, method string, clientStreams, serverStreams bool) (context.Context, rpcStats) {
	return begin(ctx, c.clientStats, true, method, clientStreams, serverStreams)
}

// beginServer tags and begins the handler's side.
func (c *inprocChannel) beginServer(ctx context.Context, method string, clientStreams, serverStreams bool) (context.Context, rpcStats) {
	return begin(ctx, c.serverStats, false, method, clientStreams, serverStreams)
}

func begin(ctx context.Context, h stats.Handler, client bool, method string, clientStreams, serverStreams bool) (context.Context, rpcStats) {
	if h == nil {
		return ctx, rpcStats{}
	}
	now := time.Now()
	ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
	h.HandleRPC(ctx, &stats.Begin{
		Client:         client,
		BeginTime:      now,
		IsClientStream: clientStreams,
		IsServerStream: serverStreams,
	})
	return ctx, rpcStats{handler: h, client: client, begin: now}
}

// end reports the end of the call with its status error (nil: OK).
func (r rpcStats) end(ctx context.Context, err error) {
	if r.handler == nil {
		return
	}
	r.handler.HandleRPC(ctx, &stats.End{Client: r.client, BeginTime: r.begin, EndTime: time.Now(), Error: err})
}
