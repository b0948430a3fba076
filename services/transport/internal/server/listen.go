package server

import (
	"context"
	"errors"
	"io"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/wire"
)

const msgMethodNotAllowed = "Method Not Allowed: the stateless protocol has no GET or DELETE"

// Listen handles a GET: after the checks, the session service's Listen stream framed
// as SSE. The first session event says where the stream starts; its id primes the
// stream, so a client that reconnects with that Last-Event-ID (on any replica) misses
// nothing. The session service replays what the client missed and owns the event
// ids; the stream ends when the client leaves, the session ends or the service stops.
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // releases the session stream
	events, err := s.session.Listen(ctx, &sessionv1.ListenRequest{
		SessionId:   md.GetSessionId(),
		LastEventId: md.GetLastEventId(),
	})
	var opened *sessionv1.ListenResponse
	if err == nil {
		opened, err = events.Recv()
	}
	if err == nil && opened.GetOpened() == nil {
		err = errors.New("session Listen stream did not start with opened")
	}
	if err != nil {
		if gone := s.clientGone(ctx); gone != nil {
			return gone
		}
		f := errorOnlyStatus(s.sessionFailure(ctx, "GET", err))
		return fail(out, f.httpStatus, nil, f.code, f.message, nil)
	}
	if err := out.head(&transportv1.ResponseHead{
		HttpStatus: 200,
		Framing:    transportv1.Framing_FRAMING_EVENT_STREAM,
		RetryMs:    s.retryMS,
	}); err != nil {
		return err
	}
	if err := out.message(nil, opened.GetEventId()); err != nil {
		return err
	}
	for {
		ev, err := events.Recv()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, io.EOF) {
				// The client reconnects with its Last-Event-ID; nothing is lost.
				s.logger.InfoContext(ctx, "session Listen stream broke; ending the GET stream", "error", err)
			}
			return nil
		}
		var data []byte
		switch e := ev.GetEvent().(type) {
		case *sessionv1.ListenResponse_Notification:
			data = jsonrpc.AppendNotification(nil, e.Notification.GetMethod(), e.Notification.GetParams())
		case *sessionv1.ListenResponse_Request:
			data = jsonrpc.AppendRequest(nil, e.Request.GetId(), e.Request.GetMethod(), e.Request.GetParams())
		default:
			continue
		}
		if err := out.message(data, ev.GetEventId()); err != nil {
			return err
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
		return checkedFailure{failure: failure{405, mcpproto.CodeInvalidRequest, msgMethodNotAllowed}}, false
	case v != "" && !mcpversion.IsStateful(v):
		return checkedFailure{failure: failure{400, mcpproto.CodeInvalidRequest, unsupportedStatefulMessage}, data: wire.VersionData(v)}, false
	case md.GetSessionId() == "":
		return checkedFailure{failure: failure{400, mcpproto.CodeInvalidRequest, msgSessionRequired}}, false
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
