package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/encoding/protojson"

	federationv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/federation/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
)

// NotifyChannel carries "the stored upstreams changed" to every federation replica;
// the payload is the upstream's name (informational: a replica re-reads the table).
const NotifyChannel = "mcpmesh_federation_upstreams"

// resyncInterval bounds how late a lost notification (a dropped LISTEN connection)
// is made up for: the table is re-read that often whatever happens.
const resyncInterval = 2 * time.Second

// PGStore keeps the stored upstreams in the federation_upstreams table (federation
// migrations). Put and Delete notify NotifyChannel in their transaction, so the
// notification is delivered exactly when the change is visible.
type PGStore struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
}

// NewPGStore returns the store in pool's database.
func NewPGStore(pool *pgxpool.Pool, logger *slog.Logger) *PGStore {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &PGStore{pool: pool, logger: logger}
}

// List implements UpstreamStore.
func (s *PGStore) List(ctx context.Context) ([]StoredUpstream, error) {
	rows, err := s.pool.Query(ctx, `SELECT spec, updated_at FROM federation_upstreams ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read stored upstreams: %w", explainTable(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredUpstream, error) {
		var spec []byte
		var updated time.Time
		if err := row.Scan(&spec, &updated); err != nil {
			return StoredUpstream{}, err
		}
		var p federationv1.Upstream
		// A newer release may have stored fields this one does not know.
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(spec, &p); err != nil {
			return StoredUpstream{}, fmt.Errorf("stored upstream: %w", err)
		}
		return StoredUpstream{Upstream: upstreamFromProto(&p), UpdatedAt: updated.UTC()}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read stored upstreams: %w", err)
	}
	return out, nil
}

// Put implements UpstreamStore.
func (s *PGStore) Put(ctx context.Context, u Upstream) (StoredUpstream, bool, error) {
	spec, err := protojson.Marshal(upstreamProto(u))
	if err != nil {
		return StoredUpstream{}, false, fmt.Errorf("encode upstream %s: %w", u.Name, err)
	}
	var created bool
	var updated time.Time
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// xmax is 0 on a row this statement inserted, not on one it updated.
		if err := tx.QueryRow(ctx, `
			INSERT INTO federation_upstreams (name, spec, updated_at) VALUES ($1, $2, now())
			ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, updated_at = EXCLUDED.updated_at
			RETURNING (xmax = 0), updated_at`, u.Name, spec).Scan(&created, &updated); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, u.Name)
		return err
	})
	if err != nil {
		return StoredUpstream{}, false, fmt.Errorf("store upstream %s: %w", u.Name, explainTable(err))
	}
	return StoredUpstream{Upstream: u, UpdatedAt: updated.UTC()}, created, nil
}

// Delete implements UpstreamStore.
func (s *PGStore) Delete(ctx context.Context, name string) (bool, error) {
	var deleted bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM federation_upstreams WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if deleted = tag.RowsAffected() > 0; !deleted {
			return nil
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, name)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("delete upstream %s: %w", name, explainTable(err))
	}
	return deleted, nil
}

// Follow implements UpstreamStore: it listens on NotifyChannel, and signals after
// every (re)connect of the listening connection and every resyncInterval too, so that
// a lost notification delays a change by one interval at most.
func (s *PGStore) Follow(ctx context.Context, changed func()) {
	pgnotify.NewFromPool(s.pool, pgnotify.Settings{
		Handlers:        map[string]pgnotify.Handler{NotifyChannel: func(string) { changed() }},
		OnResync:        changed,
		PollInterval:    resyncInterval,
		ApplicationName: "mcpmesh-federation",
		Logger:          s.logger,
	}).Run(ctx)
}

// undefinedTable is the SQLSTATE of a missing table.
const undefinedTable = "42P01"

// explainTable adds what to do when the table is missing.
func explainTable(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == undefinedTable {
		return fmt.Errorf("%w: the federation_upstreams table is missing: run `mcpmesh migrate` against this database (or set database.migrate_on_start: true)", err)
	}
	return err
}
