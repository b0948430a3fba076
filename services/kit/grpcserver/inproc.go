package grpcserver

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mcpmesh/mcpmesh/services/kit/rpcstats"
	"github.com/mcpmesh/mcpmesh/services/kit/workers"
)

// inprocChannel is a grpc.ClientConnInterface that calls the services registered on it
// in the same process: no codec, no transport, no copies.
//
// Messages are handed over, not copied. The message a caller sends (a unary request, a
// stream message) is what the handler reads, and the message a handler returns or sends
// is moved into the caller's reply with a shallow struct copy: both sides then share
// the nested messages and byte slices. That is safe because the mesh keeps one rule on
// both sides of every call, which the network channel does not need but this one does:
//
//	a message, and everything it references, is never modified after it has been
//	sent or returned, and a received message is only read, never modified.
//
// In particular a caller must not reuse the buffers of a request while any handler
// down the chain may still read them: after a call that failed or was cancelled, the
// handler may still be running.
//
// Unary calls run on the caller's goroutine. A stream runs its handler on a goroutine
// of its own and hands messages over through a small buffered channel. The server
// context derives from the caller's (values, deadline and cancellation pass through)
// and ends when the handler returns; outgoing metadata arrives as incoming metadata.
// Call options (headers, trailers, compression) are ignored, and handlers cannot
// set headers or trailers: nothing in the mesh uses them.
type inprocChannel struct {
	// methods maps "/package.Service/Method" to its handler. It is replaced, never
	// changed, on registration, so calls read it without a lock.
	methods atomic.Pointer[map[string]inprocMethod]
	mu      sync.Mutex // serialises registrations

	unaryInt  grpc.UnaryServerInterceptor
	streamInt grpc.StreamServerInterceptor
	workers   workers.Pool[*inprocStream]
	// recorder records both sides of each call as a network call is recorded
	// (kit/rpcstats); nil when not instrumented.
	recorder *rpcstats.Recorder
}

type inprocMethod struct {
	impl   any
	unary  *grpc.MethodDesc
	stream *grpc.StreamDesc
	// unaryInfo and streamInfo are built once, not per call.
	unaryInfo  *grpc.UnaryServerInfo
	streamInfo *grpc.StreamServerInfo
	// recording is the method's telemetry, built once; nil when not instrumented.
	recording *rpcstats.Method
}

// streamBuffer is how many messages a stream handler may send before a caller reads.
// Most mesh streams carry one to three messages.
const streamBuffer = 4

func newInprocChannel(unary grpc.UnaryServerInterceptor, stream grpc.StreamServerInterceptor, tel InProcessTelemetry) *inprocChannel {
	c := &inprocChannel{unaryInt: unary, streamInt: stream, workers: workers.New((*inprocStream).run), recorder: rpcstats.New(tel.TracerProvider, tel.MeterProvider)}
	c.methods.Store(&map[string]inprocMethod{})
	return c
}

// RegisterService makes impl's methods callable through the channel. It panics, like
// grpc.Server.RegisterService, when impl does not implement desc.HandlerType.
func (c *inprocChannel) RegisterService(desc *grpc.ServiceDesc, impl any) {
	if impl != nil {
		ht := reflect.TypeOf(desc.HandlerType).Elem()
		if !reflect.TypeOf(impl).Implements(ht) {
			panic(fmt.Sprintf("grpcserver: in-process RegisterService: %T does not implement %v", impl, ht))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.methods.Load()
	next := make(map[string]inprocMethod, len(old)+len(desc.Methods)+len(desc.Streams))
	for k, v := range old {
		next[k] = v
	}
	for i := range desc.Methods {
		md := &desc.Methods[i]
		name := "/" + desc.ServiceName + "/" + md.MethodName
		next[name] = inprocMethod{impl: impl, unary: md, unaryInfo: &grpc.UnaryServerInfo{Server: impl, FullMethod: name}, recording: c.recorder.Method(name)}
	}
	for i := range desc.Streams {
		sd := &desc.Streams[i]
		name := "/" + desc.ServiceName + "/" + sd.StreamName
		next[name] = inprocMethod{impl: impl, stream: sd, streamInfo: &grpc.StreamServerInfo{
			FullMethod: name, IsClientStream: sd.ClientStreams, IsServerStream: sd.ServerStreams,
		}, recording: c.recorder.Method(name)}
	}
	c.methods.Store(&next)
}

func (c *inprocChannel) lookup(method string) (inprocMethod, bool) {
	m, ok := (*c.methods.Load())[method]
	return m, ok
}

// serverContext is the handler's view of the caller's context: outgoing metadata
// becomes incoming metadata, as on the network.
func serverContext(ctx context.Context) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		return metadata.NewIncomingContext(ctx, md)
	}
	return ctx
}

// Invoke runs a unary call on the caller's goroutine.
func (c *inprocChannel) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	m, ok := c.lookup(method)
	if !ok || m.unary == nil {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	if err := ctx.Err(); err != nil {
		return contextStatus(err)
	}
	ctx, rpc := rpcstats.Begin(ctx, m.recording, true)
	err := c.invoke(ctx, m, args, reply)
	rpc.End(ctx, err)
	return err
}

func (c *inprocChannel) invoke(ctx context.Context, m inprocMethod, args, reply any) error {
	sctx, srpc := rpcstats.Begin(serverContext(ctx), m.recording, false)
	sctx, cancel := context.WithCancel(sctx)
	defer cancel()
	dec := func(in any) error { return moveMessage(in, args) }
	resp, err := m.unary.Handler(m.impl, sctx, dec, c.unaryInt)
	if err != nil {
		err = toStatusError(ctx, err)
	}
	srpc.End(sctx, err)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// The network would not have delivered an answer that came after the end.
		return contextStatus(err)
	}
	return moveMessage(reply, resp)
}

// Statuses of a context that ended, made once: the caller's end of a stream that it
// leaves after the last message (it cancels its context instead of reading the end)
// meets them on every call.
var (
	canceledStatus = status.FromContextError(context.Canceled).Err()
	deadlineStatus = status.FromContextError(context.DeadlineExceeded).Err()
)

// contextStatus is status.FromContextError(err).Err(), without an allocation for the
// two errors a context ends with.
func contextStatus(err error) error {
	// Compared, not errors.Is: a wrapped error keeps its own message in its status.
	if err == context.Canceled { //nolint:errorlint // see above
		return canceledStatus
	}
	if err == context.DeadlineExceeded { //nolint:errorlint // see above
		return deadlineStatus
	}
	return status.FromContextError(err).Err()
}

// toStatusError makes err what a gRPC client would see: a status.
func toStatusError(ctx context.Context, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return contextStatus(ctxErr)
	}
	return status.Error(codes.Unknown, err.Error())
}

// moveMessage fills dst with src. Both are pointers to the same generated message
// type in practice, and a shallow copy of the struct is all it takes: src is a message
// its sender has let go of (see inprocChannel), so dst may share what it references.
// Different types of the same message fall back to a deep proto.Merge.
func moveMessage(dst, src any) error {
	if dst == src {
		return nil
	}
	dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src)
	if dv.Kind() == reflect.Pointer && dv.Type() == sv.Type() && !dv.IsNil() {
		if sv.IsNil() {
			// A handler returned a nil message: the network would deliver an empty one.
			dv.Elem().SetZero()
			return nil
		}
		dv.Elem().Set(sv.Elem())
		return nil
	}
	dm, dok := dst.(proto.Message)
	sm, sok := src.(proto.Message)
	if dok && sok && sv.Kind() == reflect.Pointer && !sv.IsNil() &&
		dm.ProtoReflect().Descriptor().FullName() == sm.ProtoReflect().Descriptor().FullName() {
		proto.Reset(dm)
		proto.Merge(dm, sm)
		return nil
	}
	return status.Errorf(codes.Internal, "in-process call: cannot deliver %T as %T", src, dst)
}

// NewStream starts a stream. For a server stream (one request) the handler starts
// when the request is sent; otherwise at once.
func (c *inprocChannel) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	m, ok := c.lookup(method)
	if !ok || m.stream == nil {
		return nil, status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	if err := ctx.Err(); err != nil {
		return nil, contextStatus(err)
	}
	clientStreams := desc.ClientStreams || m.stream.ClientStreams
	serverStreams := desc.ServerStreams || m.stream.ServerStreams
	ctx, rpc := rpcstats.Begin(ctx, m.recording, true)
	s := &inprocStream{
		clientCtx:     ctx,
		ch:            c,
		method:        m,
		clientStreams: clientStreams,
		serverStreams: serverStreams,
		resps:         make(chan any, streamBuffer),
		clientRPC:     rpc,
	}
	if rpc.Active() {
		// A caller that leaves without reading to the end cancels its context: that
		// ends its side of the call, as the network client's stream does.
		s.stopWatch = context.AfterFunc(ctx, func() { s.finishClient(contextStatus(ctx.Err())) })
	}
	if s.clientStreams {
		s.reqs = make(chan any)
		s.reqsClosed = make(chan struct{})
		s.start()
	}
	return (*inprocClientStream)(s), nil
}

// inprocStream is both ends of one stream; inprocClientStream and inprocServerStream
// give each end its methods.
type inprocStream struct {
	clientCtx, serverCtx context.Context
	cancel               context.CancelFunc
	ch                   *inprocChannel
	method               inprocMethod
	clientStreams        bool
	serverStreams        bool
	// The stats of each side (zero when not instrumented); the client's side ends
	// once, when the caller sees the end or leaves.
	clientRPC, serverRPC rpcstats.Call
	clientEndOnce        sync.Once
	stopWatch            func() bool

	// Server streams: the one request, set by the client's SendMsg before start.
	req      any
	reqTaken bool
	started  bool
	// Client streams: requests, closed by CloseSend (reqsClosed guards the close).
	reqs       chan any
	reqsClosed chan struct{}
	closeOnce  sync.Once

	// resps carries the handler's messages and is closed when the handler returns
	// (err is set before), so the caller reads every message, then the end.
	resps chan any
	err   error
}

// start derives the server context (here, so that a stream that never starts leaves
// nothing registered on the caller's context) and runs the handler.
func (s *inprocStream) start() {
	s.started = true
	sctx, rpc := rpcstats.Begin(serverContext(s.clientCtx), s.method.recording, false)
	s.serverRPC = rpc
	s.serverCtx, s.cancel = context.WithCancel(sctx)
	s.ch.workers.Run(s)
}

// endClient ends the caller's side of the call once, with err (nil: io.EOF). It runs
// on the caller's goroutine; the watch on the caller's context calls finishClient.
func (s *inprocStream) endClient(err error) {
	if !s.clientRPC.Active() {
		return
	}
	if s.stopWatch != nil {
		s.stopWatch()
	}
	s.finishClient(err)
}

func (s *inprocStream) finishClient(err error) {
	s.clientEndOnce.Do(func() { s.clientRPC.End(s.clientCtx, err) })
}

func (s *inprocStream) run() {
	defer close(s.resps)
	defer s.cancel()
	var err error
	ss := (*inprocServerStream)(s)
	if s.ch.streamInt != nil {
		err = s.ch.streamInt(s.method.impl, ss, s.method.streamInfo, s.method.stream.Handler)
	} else {
		err = s.method.stream.Handler(s.method.impl, ss)
	}
	if err != nil {
		err = toStatusError(s.serverCtx, err)
	}
	s.err = err
	// Before resps closes: the caller sees the end after the server's side ended.
	s.serverRPC.End(s.serverCtx, err)
}

// inprocClientStream is the caller's end.
type inprocClientStream inprocStream

func (s *inprocClientStream) Header() (metadata.MD, error) { return nil, nil }
func (s *inprocClientStream) Trailer() metadata.MD         { return nil }
func (s *inprocClientStream) Context() context.Context     { return s.clientCtx }

func (s *inprocClientStream) CloseSend() error {
	if s.clientStreams {
		s.closeOnce.Do(func() { close(s.reqsClosed) })
	}
	return nil
}

func (s *inprocClientStream) SendMsg(m any) error {
	if !s.clientStreams {
		if s.started {
			return status.Error(codes.Internal, "in-process stream: a server stream takes one request")
		}
		s.req = m
		(*inprocStream)(s).start()
		return nil
	}
	select {
	case s.reqs <- m:
		return nil
	case <-s.reqsClosed:
		return status.Error(codes.Internal, "in-process stream: SendMsg after CloseSend")
	case <-s.serverCtx.Done():
		return io.EOF // as on the network: the status comes from RecvMsg
	case <-s.clientCtx.Done():
		err := contextStatus(s.clientCtx.Err())
		(*inprocStream)(s).endClient(err)
		return err
	}
}

func (s *inprocClientStream) RecvMsg(m any) error {
	select {
	case v, ok := <-s.resps:
		if ok {
			return moveMessage(m, v)
		}
		// The handler has returned; the messages it sent came first.
		(*inprocStream)(s).endClient(s.err)
		if s.err != nil {
			return s.err
		}
		return io.EOF
	case <-s.clientCtx.Done():
		err := contextStatus(s.clientCtx.Err())
		(*inprocStream)(s).endClient(err)
		return err
	}
}

// inprocServerStream is the handler's end. As with any gRPC stream, it must not be
// used after the handler has returned (SendMsg would then panic: its channel is
// closed).
type inprocServerStream inprocStream

func (s *inprocServerStream) SetHeader(metadata.MD) error  { return nil }
func (s *inprocServerStream) SendHeader(metadata.MD) error { return nil }
func (s *inprocServerStream) SetTrailer(metadata.MD)       {}
func (s *inprocServerStream) Context() context.Context     { return s.serverCtx }

func (s *inprocServerStream) SendMsg(m any) error {
	select {
	case s.resps <- m:
		return nil
	case <-s.serverCtx.Done():
		return contextStatus(s.serverCtx.Err())
	}
}

func (s *inprocServerStream) RecvMsg(m any) error {
	if !s.clientStreams {
		if s.reqTaken {
			return io.EOF
		}
		s.reqTaken = true
		return moveMessage(m, s.req)
	}
	select {
	case v := <-s.reqs:
		return moveMessage(m, v)
	case <-s.reqsClosed:
		select {
		case v := <-s.reqs:
			return moveMessage(m, v)
		default:
		}
		return io.EOF
	case <-s.serverCtx.Done():
		return contextStatus(s.serverCtx.Err())
	}
}
