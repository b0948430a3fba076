package pgdb

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ObservePool reports the pool's statistics as metrics of mp, read at each
// collection (nothing is added to queries):
//   - db.client.connection.count by db.client.connection.state (idle, used) and
//     db.client.connection.max, as the OpenTelemetry database conventions name them;
//   - mcpmesh.db.pool.acquires, .empty_acquires (acquires that had to wait for a
//     connection: the saturation signal), .canceled_acquires and .acquire_wait (s).
//
// name is the db.client.connection.pool.name attribute.
func ObservePool(pool *pgxpool.Pool, name string, mp metric.MeterProvider) error {
	meter := mp.Meter("github.com/mcpmesh/mcpmesh/services/kit/pgdb")
	count, err := meter.Int64ObservableUpDownCounter("db.client.connection.count",
		metric.WithUnit("{connection}"), metric.WithDescription("Connections of the pool by state."))
	if err != nil {
		return err
	}
	maxConns, err := meter.Int64ObservableUpDownCounter("db.client.connection.max",
		metric.WithUnit("{connection}"), metric.WithDescription("Largest number of connections the pool opens."))
	if err != nil {
		return err
	}
	acquires, err := meter.Int64ObservableCounter("mcpmesh.db.pool.acquires",
		metric.WithUnit("{acquire}"), metric.WithDescription("Connections taken from the pool."))
	if err != nil {
		return err
	}
	empty, err := meter.Int64ObservableCounter("mcpmesh.db.pool.empty_acquires",
		metric.WithUnit("{acquire}"), metric.WithDescription("Acquires that found no idle connection and waited."))
	if err != nil {
		return err
	}
	canceled, err := meter.Int64ObservableCounter("mcpmesh.db.pool.canceled_acquires",
		metric.WithUnit("{acquire}"), metric.WithDescription("Acquires abandoned because their context ended."))
	if err != nil {
		return err
	}
	wait, err := meter.Float64ObservableCounter("mcpmesh.db.pool.acquire_wait",
		metric.WithUnit("s"), metric.WithDescription("Time spent waiting for a connection by acquires that found none idle."))
	if err != nil {
		return err
	}
	poolName := attribute.String("db.client.connection.pool.name", name)
	state := attribute.Key("db.client.connection.state")
	idle := metric.WithAttributeSet(attribute.NewSet(poolName, state.String("idle")))
	used := metric.WithAttributeSet(attribute.NewSet(poolName, state.String("used")))
	onlyPool := metric.WithAttributeSet(attribute.NewSet(poolName))
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := pool.Stat()
		o.ObserveInt64(count, int64(st.IdleConns()), idle)
		o.ObserveInt64(count, int64(st.AcquiredConns()), used)
		o.ObserveInt64(maxConns, int64(st.MaxConns()), onlyPool)
		o.ObserveInt64(acquires, st.AcquireCount(), onlyPool)
		o.ObserveInt64(empty, st.EmptyAcquireCount(), onlyPool)
		o.ObserveInt64(canceled, st.CanceledAcquireCount(), onlyPool)
		o.ObserveFloat64(wait, st.EmptyAcquireWaitTime().Seconds(), onlyPool)
		return nil
	}, count, maxConns, acquires, empty, canceled, wait)
	return err
}
