package breaker

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrumentationName is the OpenTelemetry scope of the breaker metrics.
const instrumentationName = "github.com/mcpmesh/mcpmesh/services/kit/breaker"

// Observe reports b as metrics of mp:
//   - mcpmesh.provider.breaker.state (gauge, attribute provider): 0 closed,
//     1 half-open, 2 open, read at each collection;
//   - mcpmesh.provider.breaker.transitions (counter, attributes provider and to:
//     closed, half_open, open), counted as breakers change state.
//
// Call it once per Breakers, before the first call.
func Observe(b *Breakers, mp metric.MeterProvider) error {
	meter := mp.Meter(instrumentationName)
	// No unit: a state is an enumeration ("1" would add _ratio to the Prometheus name).
	state, err := meter.Int64ObservableGauge("mcpmesh.provider.breaker.state",
		metric.WithDescription("Circuit breaker state of each provider: 0 closed, 1 half-open, 2 open."))
	if err != nil {
		return err
	}
	transitions, err := meter.Int64Counter("mcpmesh.provider.breaker.transitions",
		metric.WithUnit("{transition}"),
		metric.WithDescription("Circuit breaker state changes by provider and the state entered."))
	if err != nil {
		return err
	}
	onTransition := func(provider string, to State) {
		// Breakers call this under their own lock and without a request context.
		transitions.Add(context.Background(), 1, metric.WithAttributes(
			attribute.String("provider", provider), attribute.String("to", to.String())))
	}
	if !b.onTransition.CompareAndSwap(nil, &onTransition) {
		return errors.New("breaker: metrics already registered for these breakers")
	}
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		b.each(func(provider string, s State) {
			o.ObserveInt64(state, int64(s), metric.WithAttributes(attribute.String("provider", provider)))
		})
		return nil
	}, state)
	return err
}
