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
	return s.follow(ctx, id, watch, cursor, followOptions{}, func(e events.Event) error {
		if e.Method == "" {
			// A whole message published for a 2024-11-05 connection: it is the answer
			// to one of that connection's POSTs, for its own stream only.
			return nil
		}
		if e.Seq <= replayUntil {
			s.streams.eventReplayed(ctx)
		}
		return stream.Send(&sessionv1.ListenResponse{
			EventId: events.ID(e.Seq),
			Event:   &sessionv1.ListenResponse_Notification{Notification: &sessionv1.Notification{Method: e.Method, Params: e.Params}},
		})
	})
}

// followOptions vary how follow ends.
type followOptions struct {
	// awaitSession: the session may not exist yet (an open 2024-11-05 connection before
	// initialize); the stream ends when a session it has seen is gone.
	awaitSession bool
	// endOnGap: end the stream when events after the cursor were trimmed before being
	// read (a reader without Last-Event-ID cannot get them back).
	endOnGap bool
}

// errFellBehind ends a stream whose reader lost events.
var errFellBehind = errors.New("the stream fell behind: events were trimmed before it read them")

// follow emits the session's events after cursor as they are appended, until the
// caller leaves, the session ends or the service stops.
func (s *Service) follow(ctx context.Context, id string, watch *events.Watch, cursor int64, o followOptions, emit func(events.Event) error) error {
	keepAlive := time.NewTicker(max(s.cfg.SessionIdleTimeout/3, time.Second))
	defer keepAlive.Stop()
	sessionSeen := !o.awaitSession
	// sessionGone reports whether the stream should end: its session existed and is
	// no more.
	sessionGone := func(err error) bool {
		if errors.Is(err, store.ErrNotFound) {
			return sessionSeen
		}
		if err == nil {
			sessionSeen = true
		}
		return false
	}
	for {
		wake := watch.C()
		batch, err := s.backend.Events.Read(ctx, id, cursor, listenBatch)
		if err != nil {
			return err
		}
		if o.endOnGap && len(batch) > 0 && batch[0].Seq > cursor+1 {
			return errFellBehind
		}
		for _, e := range batch {
			if err := emit(e); err != nil {
				return err
			}
			cursor = e.Seq
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
			if sessionGone(s.backend.Store.Touch(ctx, id, s.now())) {
				return nil
			}
			continue
		case <-wake:
		}
		// A wake-up may mean the session ended (Forget wakes its readers).
		if _, err := s.backend.Store.Get(ctx, id); sessionGone(err) {
			return nil
		}
	}
}
