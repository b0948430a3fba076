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
	// When the session stream breaks, the client reconnects with its Last-Event-ID;
	// nothing is lost.
	return s.forward(ctx, out, "session Listen stream broke; ending the GET stream", func() ([]byte, string, error) {
		ev, err := events.Recv()
		if err != nil {
			return nil, "", err
		}
		switch e := ev.GetEvent().(type) {
		case *sessionv1.ListenResponse_Notification:
			return jsonrpc.AppendNotification(nil, e.Notification.GetMethod(), e.Notification.GetParams()), ev.GetEventId(), nil
		case *sessionv1.ListenResponse_Request:
			return jsonrpc.AppendRequest(nil, e.Request.GetId(), e.Request.GetMethod(), e.Request.GetParams()), ev.GetEventId(), nil
		}
		return nil, "", nil
	})
}

// forward writes the events of a session stream as messages until it ends. next
// returns the next message and its event id (no data: an event with nothing to
// write), or the error that ended the stream; a stream that broke while the client
// still listens is logged with broke.
func (s *Server) forward(ctx context.Context, out sink, broke string, next func() ([]byte, string, error)) error {
	for {
		data, eventID, err := next()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, io.EOF) {
				s.logger.InfoContext(ctx, broke, "error", err)
			}
			return nil
		}
		if data == nil {
			continue
		}
		if err := out.message(data, eventID); err != nil {
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
