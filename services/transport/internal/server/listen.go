package server

import (
	"context"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/wire"
)

const msgMethodNotAllowed = "Method Not Allowed: the stateless protocol has no GET or DELETE"

// Listen handles a GET: after the checks, an SSE head, a priming event and then the
// session's server-initiated messages from the hub, until the client goes away or the
// session is closed. Last-Event-ID replay is not implemented yet.
func (s *Server) Listen(req *transportv1.ListenRequest, stream grpc.ServerStreamingServer[transportv1.ListenResponse]) error {
	ctx := stream.Context()
	out := listenSink{stream: stream}
	md := req.GetMetadata()
	if f, ok := checkSessionRequest(md); !ok {
		if f.httpStatus == 405 {
			return headOnly(out, 405)
		}
		return fail(out, f.httpStatus, nil, f.code, f.message, f.data)
	}
	sessionID := md.GetSessionId()
	if _, err := s.session.GetSession(ctx, &sessionv1.GetSessionRequest{SessionId: sessionID}); err != nil {
		if gone := s.clientGone(ctx); gone != nil {
			return gone
		}
		f := errorOnlyStatus(s.sessionFailure(ctx, "GET", err))
		return fail(out, f.httpStatus, nil, f.code, f.message, nil)
	}
	feed, unsubscribe := s.hub.Subscribe(sessionID)
	defer unsubscribe()
	ids := newEventIDs()
	if err := out.head(&transportv1.ResponseHead{
		HttpStatus: 200,
		Framing:    transportv1.Framing_FRAMING_EVENT_STREAM,
		RetryMs:    s.retryMS,
	}); err != nil {
		return err
	}
	if err := prime(out, ids); err != nil {
		return err
	}
	return pump(ctx, out, feed, ids)
}

// pump writes hub messages until the client leaves or the feed closes.
func pump(ctx context.Context, out sink, feed <-chan []byte, ids *eventIDs) error {
	for {
		select {
		case <-ctx.Done():
			return nil // the client closed the GET stream: a normal end
		case data, ok := <-feed:
			if !ok {
				return nil // the session was closed
			}
			if err := out.message(data, ids.next()); err != nil {
				return err
			}
		}
	}
}

// checkedFailure is a rejected GET or DELETE.
type checkedFailure struct {
	failure
	data []byte
}

// checkSessionRequest applies the checks GET and DELETE share: a stateless version
// header gets 405 (the stateless protocol has neither), an unsupported one 400 naming
// the supported versions, a missing session id 400.
func checkSessionRequest(md *transportv1.RequestMetadata) (checkedFailure, bool) {
	v := md.GetProtocolVersion()
	switch {
	case mcpversion.IsStateless(v):
		return checkedFailure{failure: failure{405, jsonrpc.CodeInvalidRequest, msgMethodNotAllowed}}, false
	case v != "" && !mcpversion.IsStateful(v):
		return checkedFailure{failure: failure{400, jsonrpc.CodeInvalidRequest, unsupportedStatefulMessage}, data: wire.VersionData(v)}, false
	case md.GetSessionId() == "":
		return checkedFailure{failure: failure{400, jsonrpc.CodeInvalidRequest, msgSessionRequired}}, false
	}
	return checkedFailure{}, true
}

// errorOnlyStatus: GET and DELETE have no JSON-RPC result to carry an error with 200,
// so a failure mapped to 200 becomes 400.
func errorOnlyStatus(f failure) failure {
	if f.httpStatus < 300 {
		f.httpStatus = 400
	}
	return f
}
