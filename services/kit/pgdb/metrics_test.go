package pgdb_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

func TestObservePool(t *testing.T) {
	t.Parallel()
	cfg := testConfig(pgtest.NewDatabase(t))
	cfg.MaxConns = 3
	pool := openPool(t, cfg)
	reader := sdkmetric.NewManualReader()
	if err := pgdb.ObservePool(pool, "test", sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pool.Acquire(ctx) // held while collecting: one used connection
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			add := func(state string, v float64) {
				name := m.Name
				if state != "" {
					name += "/" + state
				}
				got[name] = v
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					state, _ := dp.Attributes.Value("db.client.connection.state")
					add(state.AsString(), float64(dp.Value))
				}
			case metricdata.Sum[float64]:
				for _, dp := range d.DataPoints {
					add("", dp.Value)
				}
			}
		}
	}
	for name, want := range map[string]float64{
		"db.client.connection.count/used": 1,
		"db.client.connection.max":        3,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
	if got["mcpmesh.db.pool.acquires"] < 1 {
		t.Errorf("mcpmesh.db.pool.acquires = %v, want at least the one acquire (all: %v)", got["mcpmesh.db.pool.acquires"], got)
	}
	for _, name := range []string{"db.client.connection.count/idle", "mcpmesh.db.pool.empty_acquires", "mcpmesh.db.pool.canceled_acquires", "mcpmesh.db.pool.acquire_wait"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s not reported (all: %v)", name, got)
		}
	}
}
