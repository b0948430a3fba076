package pgdb_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// widgetMigrations creates a table and seeds one row: applying twice would fail (the
// table exists) or duplicate the row. The sleep widens the window in which concurrent,
// unlocked migrators would collide.
func widgetMigrations() fstest.MapFS {
	return fstest.MapFS{
		"00001_widgets.sql": {Data: []byte(`-- +goose Up
CREATE TABLE widgets (id bigint PRIMARY KEY, name text NOT NULL);
SELECT pg_sleep(0.3);
-- +goose Down
DROP TABLE widgets;
`)},
		"00002_seed.sql": {Data: []byte(`-- +goose Up
INSERT INTO widgets (id, name) VALUES (1, 'first');
-- +goose StatementBegin
CREATE FUNCTION widget_count() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM widgets);
END;
$$;
-- +goose StatementEnd
-- +goose Down
DROP FUNCTION widget_count();
DELETE FROM widgets WHERE id = 1;
`)},
	}
}

// assertMigrated checks the migrations were applied exactly once.
func assertMigrated(t *testing.T, pool *pgxpool.Pool, service string) {
	t.Helper()
	ctx := context.Background()
	var rows int64
	if err := pool.QueryRow(ctx, "SELECT widget_count()").Scan(&rows); err != nil {
		t.Fatalf("count widgets: %v", err)
	}
	if rows != 1 {
		t.Errorf("widgets rows = %d, want 1", rows)
	}
	var applied, maxVersion int64
	err := pool.QueryRow(ctx, "SELECT count(*), max(version_id) FROM "+pgdb.VersionTable(service)+" WHERE version_id > 0").Scan(&applied, &maxVersion)
	if err != nil {
		t.Fatalf("read version table: %v", err)
	}
	if applied != 2 || maxVersion != 2 {
		t.Errorf("version table: %d applied, max version %d; want 2, 2", applied, maxVersion)
	}
}

func TestMigrateAppliesOnceAndIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := openPool(t, testConfig(pgtest.NewDatabase(t)))
	ctx := context.Background()
	for range 2 {
		if err := pgdb.Migrate(ctx, pool, "widgets", widgetMigrations(), discardLogger()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		assertMigrated(t, pool, "widgets")
	}
	// Another service keeps its own version table in the same database.
	other := fstest.MapFS{"00001_other.sql": {Data: []byte("-- +goose Up\nCREATE TABLE other (id int);\n")}}
	if err := pgdb.Migrate(ctx, pool, "other", other, discardLogger()); err != nil {
		t.Fatalf("Migrate other service: %v", err)
	}
	var version int64
	if err := pool.QueryRow(ctx, "SELECT max(version_id) FROM other_schema_version").Scan(&version); err != nil || version != 1 {
		t.Errorf("other_schema_version max = %d, %v; want 1", version, err)
	}
}

func TestMigrateConcurrentReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	const replicas = 3
	pools := make([]*pgxpool.Pool, replicas) // one pool per simulated replica
	for i := range pools {
		pools[i] = openPool(t, testConfig(url))
	}
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, pool := range pools {
		wg.Go(func() {
			errs[i] = pgdb.Migrate(context.Background(), pool, "widgets", widgetMigrations(), discardLogger())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Migrate: %v", i, err)
		}
	}
	assertMigrated(t, pools[0], "widgets")
}

func TestMigrateErrors(t *testing.T) {
	t.Parallel()
	pool := openPool(t, testConfig(pgtest.NewDatabase(t)))
	tests := []struct {
		name       string
		service    string
		migrations fstest.MapFS
	}{
		{"bad service name", "Session; DROP", widgetMigrations()},
		{"no migrations", "empty", fstest.MapFS{}},
		{"broken sql", "broken", fstest.MapFS{"00001_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE (;\n")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := pgdb.Migrate(context.Background(), pool, tt.service, tt.migrations, discardLogger()); err == nil {
				t.Error("Migrate succeeded, want an error")
			}
		})
	}
}

// TestMigrateStatusAndDown: Status shows what is pending and what is applied; Down undoes
// the newest migration (its Down section ran: the function is gone) and then the one
// before, until nothing is left to undo; Migrate brings everything back.
func TestMigrateStatusAndDown(t *testing.T) {
	t.Parallel()
	pool := openPool(t, testConfig(pgtest.NewDatabase(t)))
	ctx := context.Background()
	applied := func() []bool {
		t.Helper()
		statuses, err := pgdb.Status(ctx, pool, "widgets", widgetMigrations())
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		var out []bool
		for i, st := range statuses {
			if st.Version != int64(i+1) || st.Service != "widgets" || st.Applied == st.AppliedAt.IsZero() {
				t.Errorf("status %d = %+v", i, st)
			}
			out = append(out, st.Applied)
		}
		return out
	}
	if got := applied(); !slices.Equal(got, []bool{false, false}) {
		t.Fatalf("before Migrate: applied %v, want none", got)
	}
	if err := pgdb.Migrate(ctx, pool, "widgets", widgetMigrations(), discardLogger()); err != nil {
		t.Fatal(err)
	}
	if got := applied(); !slices.Equal(got, []bool{true, true}) {
		t.Fatalf("after Migrate: applied %v, want both", got)
	}

	undone, err := pgdb.Down(ctx, pool, "widgets", widgetMigrations(), discardLogger())
	if err != nil || undone.Version != 2 || undone.File != "00002_seed.sql" {
		t.Fatalf("Down = %+v, %v; want 00002_seed.sql undone", undone, err)
	}
	if got := applied(); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("after one Down: applied %v, want only the first", got)
	}
	if err := pool.QueryRow(ctx, "SELECT widget_count()").Scan(new(int64)); err == nil {
		t.Error("widget_count() still exists after its migration was undone")
	}
	if _, err := pgdb.Down(ctx, pool, "widgets", widgetMigrations(), discardLogger()); err != nil {
		t.Fatalf("second Down: %v", err)
	}
	if _, err := pgdb.Down(ctx, pool, "widgets", widgetMigrations(), discardLogger()); !errors.Is(err, pgdb.ErrNothingToUndo) {
		t.Errorf("Down with nothing applied: %v, want ErrNothingToUndo", err)
	}
	if err := pgdb.Migrate(ctx, pool, "widgets", widgetMigrations(), discardLogger()); err != nil {
		t.Fatal(err)
	}
	assertMigrated(t, pool, "widgets")
}
