package server

import (
	"context"
	"errors"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// The 2024-11-05 HTTP+SSE transport: GET /sse opens an event stream whose first event
// names the URL to POST messages to, /messages?sessionId=<id>; every answer,
// notification and server request is an event on that stream, and each POST is
// answered 202 at once. The POSTs may reach any gateway and transport replica, so a
// connection is a stream of the session service (OpenConnection): each POST runs as
// an ordinary exchange whose messages are recorded on the connection's stream
// (Publish), and the replica holding GET /sse reads them from there. The connection id
// becomes the session id at initialize.

// LegacyConnect opens a connection and relays what is recorded for it.
func (s *Server) LegacyConnect(_ *transportv1.LegacyConnectRequest, stream grpc.ServerStreamingServer[transportv1.LegacyConnectResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel() // ends the session stream, and with it the connection's session
	out := legacyConnectSink{stream: stream}
	events, err := s.session.OpenConnection(ctx, &sessionv1.OpenConnectionRequest{})
	var opened *sessionv1.OpenConnectionResponse
	if err == nil {
		opened, err = events.Recv()
	}
	if err == nil && opened.GetOpened().GetSessionId() == "" {
		err = errors.New("session OpenConnection stream did not start with opened")
	}
	if err != nil {
		if gone := s.clientGone(ctx); gone != nil {
			return gone
		}
		f := errorOnlyStatus(s.sessionFailure(ctx, "GET /sse", err))
		return fail(out, f.httpStatus, nil, f.code, f.message, nil)
	}
	if err := out.head(&transportv1.ResponseHead{
		HttpStatus: 200,
		Framing:    transportv1.Framing_FRAMING_EVENT_STREAM,
		SessionId:  opened.GetOpened().GetSessionId(),
	}); err != nil {
		return err
	}
	// When the session stream breaks, the client connects again and initializes a new
	// session.
	return s.forward(ctx, out, "session OpenConnection stream broke; ending the 2024-11-05 stream", func() ([]byte, string, error) {
		ev, err := events.Recv()
		if err != nil {
			return nil, "", err
		}
		switch e := ev.GetEvent().(type) {
		case *sessionv1.OpenConnectionResponse_Notification:
			return jsonrpc.AppendNotification(nil, e.Notification.GetMethod(), e.Notification.GetParams()), "", nil
		case *sessionv1.OpenConnectionResponse_Message:
			return e.Message, "", nil
		}
		return nil, "", nil
	})
}

// LegacyPost accepts one message of a connection and runs it, recording its answers
// on the connection's stream.
func (s *Server) LegacyPost(req *transportv1.LegacyPostRequest, stream grpc.ServerStreamingServer[transportv1.LegacyPostResponse]) error {
	ctx := stream.Context()
	id := req.GetConnectionId()
	head := func(code int32) error {
		return stream.Send(&transportv1.LegacyPostResponse{Head: &transportv1.ResponseHead{
			HttpStatus: code, Framing: transportv1.Framing_FRAMING_NONE,
		}})
	}
	if id == "" {
		return head(404)
	}
	// No messages: only checks that the connection (or its session) exists.
	if _, err := s.session.Publish(ctx, &sessionv1.PublishRequest{SessionId: id}); err != nil {
		if gone := s.clientGone(ctx); gone != nil {
			return gone
		}
		if status.Code(err) == codes.NotFound {
			return head(404)
		}
		return head(int32(errorOnlyStatus(s.sessionFailure(ctx, "POST /messages", err)).httpStatus))
	}
	if err := head(202); err != nil {
		return err
	}
	md := &transportv1.RequestMetadata{SessionId: id, AcceptsJson: true, AcceptsEventStream: true}
	return s.exchange(ctx, &publishSink{ctx: ctx, session: s.session, id: id}, md, req.GetBody(), id)
}

// publishSink records the messages of an exchange on a connection's stream. The head
// has no reader: the client got its 202 already.
type publishSink struct {
	ctx     context.Context
	session sessionv1.SessionServiceClient
	id      string
}

func (p *publishSink) head(*transportv1.ResponseHead) error { return nil }

func (p *publishSink) message(data []byte, _ string) error {
	if len(data) == 0 {
		return nil // the priming event of an SSE framing
	}
	_, err := p.session.Publish(p.ctx, &sessionv1.PublishRequest{SessionId: p.id, Messages: [][]byte{data}})
	return err
}

type legacyConnectSink struct {
	stream grpc.ServerStreamingServer[transportv1.LegacyConnectResponse]
}

func (s legacyConnectSink) head(h *transportv1.ResponseHead) error {
	return s.stream.Send(&transportv1.LegacyConnectResponse{Event: &transportv1.LegacyConnectResponse_Head{Head: h}})
}

func (s legacyConnectSink) message(data []byte, eventID string) error {
	return s.stream.Send(&transportv1.LegacyConnectResponse{Event: &transportv1.LegacyConnectResponse_Message{
		Message: &transportv1.Message{Data: data, EventId: eventID},
	}})
}
