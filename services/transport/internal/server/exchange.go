package server

import (
	"context"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"strings"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/wire"
)

// Exchange handles one POST: decode, choose the generation, dispatch, frame. Every
// outcome the client should see (including session failures) is written as a head and
// messages; the RPC itself fails only when the gateway's stream is gone.
func (s *Server) Exchange(req *transportv1.ExchangeRequest, stream grpc.ServerStreamingServer[transportv1.ExchangeResponse]) error {
	// The gateway's context ends when its client goes away: cancelling it cancels the
	// session stream below, which is how a closed stateless stream cancels the request.
	md := req.GetMetadata()
	if md == nil {
		md = &transportv1.RequestMetadata{}
	}
	return s.exchange(stream.Context(), exchangeSink{stream: stream}, md, req.GetBody(), "")
}

// exchange runs one POSTed body and writes the outcome to out. connectionID is set for
// the messages of a 2024-11-05 connection: its initialize gives the session that id.
func (s *Server) exchange(ctx context.Context, out sink, md *transportv1.RequestMetadata, body []byte, connectionID string) error {
	if jsonrpc.IsBatch(body) {
		ctx, cancel := context.WithTimeout(ctx, s.handleTimeout)
		defer cancel()
		return s.batch(ctx, out, md, body)
	}
	msg, derr := jsonrpc.Decode(body)
	if derr != nil {
		return fail(out, 400, derr.ID, derr.Code, derr.Message, nil)
	}
	// subscriptions/listen lasts as long as the client wants it; everything else is
	// bounded.
	var cancel context.CancelFunc
	if msg.Method == mcpproto.MethodSubscriptionsListen && msg.Kind == jsonrpc.KindRequest {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, s.handleTimeout)
	}
	defer cancel()
	// The params matter to the stateless generation, and to the choice only when they
	// may carry a _meta protocol version: a stateful request (most traffic) usually
	// skips decoding them here.
	var params wire.Params
	read := false
	if msg.Kind != jsonrpc.KindResponse && wire.MayHaveProtocolVersion(msg.Params) {
		params, read = wire.ReadParams(msg.Params), true
	}
	if wire.Choose(msg.Method, params, md.GetProtocolVersion(), md.GetSessionId()) == wire.Stateless {
		if !read && msg.Kind != jsonrpc.KindResponse {
			params = wire.ReadParams(msg.Params)
		}
		return s.stateless(ctx, out, md, &msg, params)
	}
	return s.stateful(ctx, out, md, &msg, connectionID)
}

// framingFor tells how the client wants a response: SSE is possible when it accepts
// text/event-stream; JSON when it accepts application/json or says nothing usable.
type framingFor struct {
	sse    bool
	jsonOK bool
}

func framingOf(md *transportv1.RequestMetadata) framingFor {
	return framingFor{
		sse:    md.GetAcceptsEventStream(),
		jsonOK: md.GetAcceptsJson() || !md.GetAcceptsEventStream(),
	}
}

// unsupportedStatefulMessage names the supported versions, as the spec asks of errors
// about versions.
var unsupportedStatefulMessage = "Bad Request: Unsupported protocol version (supported versions: " +
	strings.Join(mcpversion.All, ", ") + ")"

const msgSessionRequired = "Bad Request: Mcp-Session-Id header is required"
