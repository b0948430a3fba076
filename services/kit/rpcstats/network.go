package rpcstats

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// ClientHandler and ServerHandler are the gRPC stats handlers of network calls: the
// spans and measurements of otelgrpc's NewClientHandler and NewServerHandler (the
// names, kinds, attributes, statuses and series that TestNetworkCallsAreRecordedLikeOtelgrpc
// compares), with the trace context carried in the same metadata, at a fraction of
// their cost per call: the method's names and attribute sets are built once, no span
// is started under an unsampled caller, and the metadata is neither copied to read
// the trace context nor to add it.

// NewClientHandler records the client side of network calls into r, and sends each
// call's trace context (and baggage) with prop.
func NewClientHandler(r *Recorder, prop propagation.TextMapPropagator) stats.Handler {
	return &clientHandler{handler: handler{rec: r}, prop: prop}
}

// NewServerHandler records the server side of network calls into r, continuing the
// trace context (and baggage) the caller sent, read with prop.
func NewServerHandler(r *Recorder, prop propagation.TextMapPropagator) stats.Handler {
	return &serverHandler{handler: handler{rec: r}, prop: prop}
}

// handler is what both sides share: the methods' recordings, by full method name.
type handler struct {
	rec     *Recorder
	methods sync.Map // full method name → *Method
}

func (h *handler) method(fullMethod string) *Method {
	if m, ok := h.methods.Load(fullMethod); ok {
		return m.(*Method)
	}
	m, _ := h.methods.LoadOrStore(fullMethod, h.rec.Method(fullMethod))
	return m.(*Method)
}

func (*handler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (*handler) HandleConn(context.Context, stats.ConnStats)                       {}

// networkCall is one side of one network call, in its context from TagRPC on.
type networkCall struct {
	Call
	// serverAddress is the server's "host:port" once the client has sent its headers.
	serverAddress string
}

type networkCallKey struct{}

func networkCallOf(ctx context.Context) *networkCall {
	c, _ := ctx.Value(networkCallKey{}).(*networkCall)
	return c
}

type clientHandler struct {
	handler
	prop propagation.TextMapPropagator
}

func (h *clientHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if h.rec == nil {
		return ctx
	}
	ctx, call := Begin(ctx, h.method(info.FullMethodName), true)
	ctx = inject(ctx, h.prop)
	return context.WithValue(ctx, networkCallKey{}, &networkCall{Call: call})
}

func (h *clientHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	c := networkCallOf(ctx)
	if c == nil {
		return
	}
	switch rs := rs.(type) {
	case *stats.OutHeader:
		if rs.RemoteAddr != nil {
			c.serverAddress = rs.RemoteAddr.String()
			if c.span != nil && c.span.IsRecording() {
				c.span.SetAttributes(serverAddressAttrs(c.serverAddress)...)
			}
		}
	case *stats.End:
		c.EndAddressed(ctx, rs.Error, c.serverAddress)
	}
}

type serverHandler struct {
	handler
	prop propagation.TextMapPropagator
}

func (h *serverHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if h.prop != nil {
		ctx = h.prop.Extract(ctx, incomingCarrier{ctx})
	}
	if h.rec == nil {
		return ctx
	}
	ctx, call := Begin(ctx, h.method(info.FullMethodName), false)
	return context.WithValue(ctx, networkCallKey{}, &networkCall{Call: call})
}

func (h *serverHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	c := networkCallOf(ctx)
	if c == nil {
		return
	}
	switch rs := rs.(type) {
	case *stats.InHeader:
		if rs.LocalAddr != nil && c.span != nil && c.span.IsRecording() {
			c.span.SetAttributes(serverAddressAttrs(rs.LocalAddr.String())...)
		}
	case *stats.End:
		c.End(ctx, rs.Error)
	}
}

// incomingCarrier reads single metadata values of an incoming call without copying
// the whole metadata (the mesh's calls carry a principal or an identity assertion).
// The trace context and baggage propagators read only the keys they know.
type incomingCarrier struct{ ctx context.Context }

func (c incomingCarrier) Get(key string) string {
	if v := metadata.ValueFromIncomingContext(c.ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (incomingCarrier) Set(string, string) {}

func (c incomingCarrier) Keys() []string {
	md, _ := metadata.FromIncomingContext(c.ctx)
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	return keys
}

// outgoingCarrier collects what a propagator injects, in the order it sets them.
type outgoingCarrier struct{ pairs []string }

func (c *outgoingCarrier) Get(key string) string {
	for i := 0; i+1 < len(c.pairs); i += 2 {
		if c.pairs[i] == key {
			return c.pairs[i+1]
		}
	}
	return ""
}

func (c *outgoingCarrier) Set(key, value string) { c.pairs = append(c.pairs, key, value) }

func (c *outgoingCarrier) Keys() []string {
	keys := make([]string, 0, len(c.pairs)/2)
	for i := 0; i < len(c.pairs); i += 2 {
		keys = append(keys, c.pairs[i])
	}
	return keys
}

// inject adds ctx's trace context (and baggage) to the call's outgoing metadata:
// appended, unless a key is already there (metadata forwarded from an incoming call),
// in which case the metadata is copied and the key replaced, as otelgrpc does.
func inject(ctx context.Context, prop propagation.TextMapPropagator) context.Context {
	if prop == nil {
		return ctx
	}
	var c outgoingCarrier
	prop.Inject(ctx, &c)
	if len(c.pairs) == 0 {
		return ctx
	}
	for i := 0; i < len(c.pairs); i += 2 {
		if len(metadata.ValueFromOutgoingContext(ctx, c.pairs[i])) > 0 {
			md, _ := metadata.FromOutgoingContext(ctx)
			for j := 0; j < len(c.pairs); j += 2 {
				md.Set(c.pairs[j], c.pairs[j+1])
			}
			return metadata.NewOutgoingContext(ctx, md)
		}
	}
	return metadata.AppendToOutgoingContext(ctx, c.pairs...)
}
