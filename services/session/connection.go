package session

import (
	"context"
	"errors"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"google.golang.org/grpc"
)

// A 2024-11-05 HTTP+SSE connection reads one stream (GET /sse) and POSTs each message
// separately, possibly to another replica; the answers must reach the stream. So the
// connection's stream is a reader of the event store under an id reserved when it
// opens, which the session takes at initialize: the answers are recorded there by
// Publish (from any replica; PostgreSQL NOTIFY wakes the reader), and so are the
// session's own server-initiated messages. Nothing about the connection is kept in
// any process but the one serving its stream.
//
// Events with an empty method are whole JSON-RPC messages (Publish); the first event
// of a connection, with an empty method and no message, is the reservation itself:
// it makes the id known to every replica until the connection ends or the sweep
// removes it (an initialize later than the event retention fails).

const (
	methodOpenConnection = "/mcpmesh.session.v1.SessionService/OpenConnection"
	methodPublish        = "/mcpmesh.session.v1.SessionService/Publish"
)

// connectionOpened is the origin of a connection's reservation event.
const connectionOpened = "connection-opened"

// connectionCleanupTimeout bounds ending the session of a closed connection.
const connectionCleanupTimeout = 5 * time.Second

// OpenConnection reserves an id for a 2024-11-05 connection and streams what is
// recorded for it until the caller leaves, the session ends or the reader falls behind.
func (s *Service) OpenConnection(_ *sessionv1.OpenConnectionRequest, stream grpc.ServerStreamingServer[sessionv1.OpenConnectionResponse]) error {
	ctx := stream.Context()
	err := s.openConnection(ctx, stream)
	if errors.Is(err, errFellBehind) {
		s.logger.InfoContext(ctx, "2024-11-05 connection ended: its client fell behind", "error", err)
		return nil
	}
	return s.toStatus(ctx, methodOpenConnection, err)
}

func (s *Service) openConnection(ctx context.Context, stream grpc.ServerStreamingServer[sessionv1.OpenConnectionResponse]) error {
	id, err := newSessionID()
	if err != nil {
		return err
	}
	watch := s.backend.Waker.Watch(id)
	defer watch.Close()
	if err := s.backend.Events.Append(ctx, id, events.Draft{Origin: connectionOpened}); err != nil {
		return err
	}
	defer s.closeConnection(ctx, id)
	window, err := s.backend.Events.Window(ctx, id)
	if err != nil {
		return err
	}
	if err := stream.Send(&sessionv1.OpenConnectionResponse{
		Event: &sessionv1.OpenConnectionResponse_Opened{Opened: &sessionv1.ConnectionOpened{SessionId: id}},
	}); err != nil {
		return err
	}
	return s.follow(ctx, id, watch, window.Head, followOptions{awaitSession: true, endOnGap: true}, func(e events.Event) error {
		ev := &sessionv1.OpenConnectionResponse{}
		switch {
		case e.Method != "":
			ev.Event = &sessionv1.OpenConnectionResponse_Notification{Notification: &sessionv1.Notification{Method: e.Method, Params: e.Params}}
		case len(e.Params) > 0:
			ev.Event = &sessionv1.OpenConnectionResponse_Message{Message: e.Params}
		default:
			return nil // the reservation
		}
		return stream.Send(ev)
	})
}

// closeConnection ends the session of a closed connection (the 2024-11-05 transport
// has no other way to end one) and drops what was recorded for it.
func (s *Service) closeConnection(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), connectionCleanupTimeout)
	defer cancel()
	if err := s.backend.Store.Delete(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.logger.WarnContext(ctx, "end the session of a closed 2024-11-05 connection", "error", err)
	}
	if err := s.backend.Events.Forget(ctx, id); err != nil {
		s.logger.WarnContext(ctx, "forget the events of a closed 2024-11-05 connection", "error", err)
	}
}

// Publish records whole messages on the stream of a session or an open connection.
func (s *Service) Publish(ctx context.Context, req *sessionv1.PublishRequest) (*sessionv1.PublishResponse, error) {
	err := s.publish(ctx, req)
	if err != nil {
		return nil, s.toStatus(ctx, methodPublish, err)
	}
	return &sessionv1.PublishResponse{}, nil
}

func (s *Service) publish(ctx context.Context, req *sessionv1.PublishRequest) error {
	id := req.GetSessionId()
	if id == "" {
		return public(errInvalidRequest, "session_id is required")
	}
	if err := s.checkStream(ctx, id); err != nil {
		return err
	}
	drafts := make([]events.Draft, 0, len(req.GetMessages()))
	for _, m := range req.GetMessages() {
		if len(m) == 0 {
			return public(errInvalidRequest, "messages must not be empty")
		}
		drafts = append(drafts, events.Draft{Params: m})
	}
	return s.backend.Events.Append(ctx, id, drafts...)
}

// checkStream fails with NotFound unless a session or an open connection has the id.
func (s *Service) checkStream(ctx context.Context, id string) error {
	sess, err := s.backend.Store.Get(ctx, id)
	switch {
	case err == nil && owns(ctx, sess):
		return nil
	case err == nil:
		// Another principal's session: not found, whether or not a connection opened it.
		return public(store.ErrNotFound, "no session or open connection has the id %s", id)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	open, werr := s.connectionOpen(ctx, id)
	if werr != nil {
		return werr
	}
	if !open {
		return public(store.ErrNotFound, "no session or open connection has the id %s", id)
	}
	return nil
}

// connectionOpen reports whether the id's first retained event is a connection's
// reservation: a connection that reserved it and has not closed (sessions are checked
// in the store first). Any events alone would not do: a publish that raced the
// connection's close, through another replica's cached copy of its session, can leave
// events behind after they were forgotten, and those must not reopen the id.
func (s *Service) connectionOpen(ctx context.Context, id string) (bool, error) {
	first, err := s.backend.Events.Read(ctx, id, 0, 1)
	if err != nil {
		return false, err
	}
	return len(first) == 1 && first[0].Method == "" && len(first[0].Params) == 0, nil
}

// errConnectionNotOpen: an initialize named a connection that is not open, or whose
// session exists already.
var errConnectionNotOpen = errors.New("connection not open")

// sessionIDFor returns the id of a new session: the one its open connection reserved,
// or a new one.
func (s *Service) sessionIDFor(ctx context.Context, connectionID string) (string, error) {
	if connectionID == "" {
		return newSessionID()
	}
	open, err := s.connectionOpen(ctx, connectionID)
	if err != nil {
		return "", err
	}
	if !open {
		return "", public(errConnectionNotOpen, "no open connection has the id %s: open GET /sse again", connectionID)
	}
	return connectionID, nil
}
