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

// listenBatch is how many events one store read returns.
const listenBatch = 64

// Listen streams a stateful session's server-initiated messages: an opened event
// naming where the stream starts, the events after last_event_id when they are still
// kept, then each new event until the caller leaves, the session ends or the service
// stops.
func (s *Service) Listen(req *sessionv1.ListenRequest, stream grpc.ServerStreamingServer[sessionv1.ListenResponse]) error {
	ctx := stream.Context()
	return s.toStatus(ctx, methodListen, s.listen(ctx, req, stream))
}

func (s *Service) listen(ctx context.Context, req *sessionv1.ListenRequest, stream grpc.ServerStreamingServer[sessionv1.ListenResponse]) error {
	id := req.GetSessionId()
	if id == "" {
		return public(errInvalidRequest, "session_id is required")
	}
	if _, err := s.loadSession(ctx, id); err != nil {
		return err
	}
	// Watch before reading, so an event appended in between wakes us.
	watch := s.backend.Waker.Watch(id)
	defer watch.Close()
	window, err := s.backend.Events.Window(ctx, id)
	if err != nil {
		return err
	}
	cursor, restarted := window.Head, false
	if last := req.GetLastEventId(); last != "" {
		seq, ok := events.ParseID(last)
		if ok && window.Resumable(seq) {
			cursor = seq
		} else {
			restarted = true
			s.streams.resumeRefused(ctx)
			s.logger.InfoContext(ctx, "Last-Event-ID cannot be resumed; the stream starts afresh",
				"last_event_id", last, "first_kept", window.First, "head", window.Head)
		}
	}
	// Counted before the opened event goes out, so that a caller who saw it also sees
	// the stream counted.
	s.streams.streamOpened(ctx)
	defer s.streams.streamClosed(context.WithoutCancel(ctx))
	if err := stream.Send(&sessionv1.ListenResponse{
		EventId: events.ID(cursor),
		Event:   &sessionv1.ListenResponse_Opened{Opened: &sessionv1.ListenOpened{Restarted: restarted}},
	}); err != nil {
		return err
	}
	// Events up to the head at opening are the replay of a resumed stream.
	replayUntil := window.Head
	keepAlive := time.NewTicker(max(s.cfg.SessionIdleTimeout/3, time.Second))
	defer keepAlive.Stop()
	for {
		wake := watch.C()
		batch, err := s.backend.Events.Read(ctx, id, cursor, listenBatch)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := stream.Send(&sessionv1.ListenResponse{
				EventId: events.ID(e.Seq),
				Event:   &sessionv1.ListenResponse_Notification{Notification: &sessionv1.Notification{Method: e.Method, Params: e.Params}},
			}); err != nil {
				return err
			}
			cursor = e.Seq
			if e.Seq <= replayUntil {
				s.streams.eventReplayed(ctx)
			}
		}
		if len(batch) == listenBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.Stopping():
			return nil
		case <-keepAlive.C:
			// An open stream is activity: the session does not expire under a client
			// that only listens. A session that ended meanwhile ends the stream.
			if err := s.backend.Store.Touch(ctx, id, s.now()); errors.Is(err, store.ErrNotFound) {
				return nil
			}
			continue
		case <-wake:
		}
		// A wake-up may mean the session ended (Forget wakes its readers).
		if _, err := s.backend.Store.Get(ctx, id); errors.Is(err, store.ErrNotFound) {
			return nil
		}
	}
}
