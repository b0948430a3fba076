package session

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
)

// streamMetrics are the instruments of the server-initiated message path, recorded by
// Listen and by the change routing. The zero value records nothing.
type streamMetrics struct {
	// listening counts the Listen (GET) streams this replica serves.
	listening metric.Int64UpDownCounter
	// replayed counts events sent to a stream that resumed with Last-Event-ID.
	replayed metric.Int64Counter
	// restarted counts resumptions refused (unknown or too old Last-Event-ID).
	restarted metric.Int64Counter
	// appended counts events recorded in the event store, by method.
	appended metric.Int64Counter
}

func (m *streamMetrics) streamOpened(ctx context.Context) {
	if m.listening != nil {
		m.listening.Add(ctx, 1)
	}
}

func (m *streamMetrics) streamClosed(ctx context.Context) {
	if m.listening != nil {
		m.listening.Add(ctx, -1)
	}
}

func (m *streamMetrics) eventReplayed(ctx context.Context) {
	if m.replayed != nil {
		m.replayed.Add(ctx, 1)
	}
}

func (m *streamMetrics) resumeRefused(ctx context.Context) {
	if m.restarted != nil {
		m.restarted.Add(ctx, 1)
	}
}

func (m *streamMetrics) eventsAppended(ctx context.Context, n int) {
	if m.appended != nil && n > 0 {
		m.appended.Add(ctx, int64(n))
	}
}

// observeStreams creates the instruments; every series exists from the start.
func observeStreams(s *Service, meter metric.Meter) error {
	var m streamMetrics
	var err error
	if m.listening, err = meter.Int64UpDownCounter("mcpmesh.session.listen.streams",
		metric.WithUnit("{stream}"),
		metric.WithDescription("Server-message (GET) streams of stateful sessions served by this replica.")); err != nil {
		return err
	}
	if m.replayed, err = meter.Int64Counter("mcpmesh.session.events.replayed",
		metric.WithUnit("{event}"),
		metric.WithDescription("Events replayed from the event store to streams resumed with Last-Event-ID.")); err != nil {
		return err
	}
	if m.restarted, err = meter.Int64Counter("mcpmesh.session.resumptions.refused",
		metric.WithUnit("{stream}"),
		metric.WithDescription("Streams whose Last-Event-ID could not be resumed (unknown, or older than the event store keeps) and started afresh.")); err != nil {
		return err
	}
	if m.appended, err = meter.Int64Counter("mcpmesh.session.events.recorded",
		metric.WithUnit("{event}"),
		metric.WithDescription("Server-initiated events this replica appended to the event store (an event another replica already recorded counts here too).")); err != nil {
		return err
	}
	ctx := context.Background()
	m.listening.Add(ctx, 0)
	m.replayed.Add(ctx, 0)
	m.restarted.Add(ctx, 0)
	m.appended.Add(ctx, 0)
	s.streams = m
	return nil
}

// observeListener reports whether the LISTEN connection is up (nothing without a
// database).
func observeListener(listener *pgnotify.Listener, meter metric.Meter) error {
	if listener == nil {
		return nil
	}
	_, err := meter.Int64ObservableGauge("mcpmesh.session.notify.connected",
		metric.WithDescription("1 while this replica's PostgreSQL LISTEN connection is up; 0 means messages between replicas wait for the fallback poll."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			v := int64(0)
			if listener.Healthy() {
				v = 1
			}
			o.Observe(v)
			return nil
		}))
	return err
}
