package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// DefaultSweepBatch is how many expired leases one statement deletes at most, so that
// a sweep never holds many row locks or a long transaction.
const DefaultSweepBatch = 1000

// Postgres is the Store shared by registry replicas: one row per provider in the table
// "providers" (see the module's migrations). Lease checks happen inside the statements
// (UPDATE/DELETE ... WHERE name = $1 AND lease_id = $2), so replicas writing at once
// never renew or remove a lease that was replaced meanwhile.
//
// Times are stored as timestamptz, which keeps microseconds: a record read back has
// its times truncated to the microsecond. The catalogue is stored as its protobuf
// encoding, which round-trips exactly.
type Postgres struct {
	pool  *pgxpool.Pool
	batch int
}

var _ Store = (*Postgres)(nil)

// PostgresOption adjusts a Postgres store.
type PostgresOption func(*Postgres)

// WithSweepBatch sets how many rows one DeleteExpired statement removes at most
// (default DefaultSweepBatch).
func WithSweepBatch(n int) PostgresOption {
	return func(p *Postgres) {
		if n > 0 {
			p.batch = n
		}
	}
}

// NewPostgres returns a store on pool, whose tables the registry's Migrate created.
func NewPostgres(pool *pgxpool.Pool, opts ...PostgresOption) *Postgres {
	p := &Postgres{pool: pool, batch: DefaultSweepBatch}
	for _, o := range opts {
		o(p)
	}
	return p
}

// writtenColumns are those Put writes; providerColumns those every read returns.
const (
	writtenColumns  = `name, address, lease_id, lease_ms, lease_expires_at, registered_at, version, instructions, catalogue, owner`
	providerColumns = writtenColumns + `, tools_announced, resources_announced, prompts_announced`
)

// putSQL adds or replaces a record; every write takes a new revision from the table's
// sequence, so readers can tell which rows changed since a revision they saw. A
// replaced row keeps its announcement counts.
const putSQL = `INSERT INTO providers (` + writtenColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (name) DO UPDATE SET
	address = EXCLUDED.address,
	lease_id = EXCLUDED.lease_id,
	lease_ms = EXCLUDED.lease_ms,
	lease_expires_at = EXCLUDED.lease_expires_at,
	registered_at = EXCLUDED.registered_at,
	version = EXCLUDED.version,
	instructions = EXCLUDED.instructions,
	catalogue = EXCLUDED.catalogue,
	owner = EXCLUDED.owner,
	revision = nextval('providers_revision_seq')`

// Put implements Store.
func (p *Postgres) Put(ctx context.Context, rec Record) error {
	cat, err := marshalCatalogue(rec.Catalogue)
	if err != nil {
		return fmt.Errorf("put %s: %w", rec.Name, err)
	}
	var expires *time.Time
	if !rec.LeaseExpiresAt.IsZero() {
		expires = &rec.LeaseExpiresAt
	}
	_, err = p.pool.Exec(ctx, putSQL, rec.Name, rec.Address, rec.LeaseID, rec.Lease.Milliseconds(), expires,
		rec.RegisteredAt, rec.Version, rec.Instructions, cat, rec.Owner)
	if err != nil {
		return wrap(fmt.Sprintf("put %s", rec.Name), err)
	}
	return nil
}

// Get implements Store.
func (p *Postgres) Get(ctx context.Context, name string) (Record, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+providerColumns+` FROM providers WHERE name = $1`, name)
	if err != nil {
		return Record{}, wrap(fmt.Sprintf("get %s", name), err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if err != nil {
		return Record{}, wrap(fmt.Sprintf("get %s", name), err)
	}
	return rec, nil
}

// renewSQL extends a live lease held under leaseID. A record without an expiry (never
// the case for a registration) counts as live, as in Memory.
const renewSQL = `UPDATE providers
SET lease_expires_at = $3::timestamptz + lease_ms * interval '1 millisecond'
WHERE name = $1 AND lease_id = $2 AND lease_id <> ''
	AND (lease_expires_at IS NULL OR lease_expires_at > $3)
RETURNING ` + providerColumns

// Renew implements Store. Heartbeats do not change what watchers see, so the row keeps
// its revision.
func (p *Postgres) Renew(ctx context.Context, name, leaseID string, now time.Time) (Record, error) {
	rows, err := p.pool.Query(ctx, renewSQL, name, leaseID, now)
	if err != nil {
		return Record{}, wrap(fmt.Sprintf("renew %s", name), err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if err != nil {
		return Record{}, wrap(fmt.Sprintf("renew %s", name), err)
	}
	return rec, nil
}

// redescribeSQL replaces the description of a record, and adds to its announcement
// counts, only while it keeps the lease and address the caller read.
const redescribeSQL = `UPDATE providers
SET version = $4, instructions = $5, catalogue = $6, revision = nextval('providers_revision_seq'),
	tools_announced = tools_announced + $7, resources_announced = resources_announced + $8,
	prompts_announced = prompts_announced + $9
WHERE name = $1 AND lease_id = $2 AND address = $3
RETURNING ` + providerColumns

// Redescribe implements Store.
func (p *Postgres) Redescribe(ctx context.Context, rec Record, announce Announced) (Record, error) {
	cat, err := marshalCatalogue(rec.Catalogue)
	if err != nil {
		return Record{}, fmt.Errorf("redescribe %s: %w", rec.Name, err)
	}
	rows, err := p.pool.Query(ctx, redescribeSQL, rec.Name, rec.LeaseID, rec.Address, rec.Version, rec.Instructions, cat,
		announce.Tools, announce.Resources, announce.Prompts)
	if err != nil {
		return Record{}, wrap(fmt.Sprintf("redescribe %s", rec.Name), err)
	}
	updated, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if err != nil {
		return Record{}, wrap(fmt.Sprintf("redescribe %s", rec.Name), err)
	}
	return updated, nil
}

// Delete implements Store.
func (p *Postgres) Delete(ctx context.Context, name, leaseID string) error {
	tag, err := p.pool.Exec(ctx, `DELETE FROM providers WHERE name = $1 AND lease_id = $2`, name, leaseID)
	if err != nil {
		return wrap(fmt.Sprintf("delete %s", name), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete %s: %w", name, ErrNotFound)
	}
	return nil
}

// deleteExpiredSQL removes one batch of expired leases. SKIP LOCKED lets replicas
// sweep together; a lease renewed while the batch was chosen is re-checked by the
// outer condition and stays.
const deleteExpiredSQL = `DELETE FROM providers
WHERE name IN (
	SELECT name FROM providers WHERE lease_expires_at <= $1
	ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
	AND lease_expires_at <= $1
RETURNING name`

// DeleteExpired implements Store, in batches of at most the sweep batch size, each its
// own short statement.
func (p *Postgres) DeleteExpired(ctx context.Context, now time.Time) ([]string, error) {
	var removed []string
	for {
		rows, err := p.pool.Query(ctx, deleteExpiredSQL, now, p.batch)
		if err != nil {
			return removed, wrap("delete expired leases", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return removed, wrap("delete expired leases", err)
		}
		removed = append(removed, names...)
		if len(names) < p.batch {
			return removed, nil
		}
	}
}

// List implements Store.
func (p *Postgres) List(ctx context.Context) ([]Record, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+providerColumns+` FROM providers`)
	if err != nil {
		return nil, wrap("list providers", err)
	}
	recs, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return nil, wrap("list providers", err)
	}
	return recs, nil
}

// scanRecord reads the providerColumns of one row.
func scanRecord(row pgx.CollectableRow) (Record, error) {
	var (
		rec     Record
		leaseMs int64
		expires *time.Time
		cat     []byte
	)
	if err := row.Scan(&rec.Name, &rec.Address, &rec.LeaseID, &leaseMs, &expires, &rec.RegisteredAt,
		&rec.Version, &rec.Instructions, &cat, &rec.Owner,
		&rec.Announced.Tools, &rec.Announced.Resources, &rec.Announced.Prompts); err != nil {
		return Record{}, err
	}
	rec.Lease = time.Duration(leaseMs) * time.Millisecond
	if expires != nil {
		rec.LeaseExpiresAt = *expires
	}
	if cat != nil {
		rec.Catalogue = &mcpv1.Catalogue{}
		if err := proto.Unmarshal(cat, rec.Catalogue); err != nil {
			return Record{}, fmt.Errorf("decode catalogue of %s: %w", rec.Name, err)
		}
	}
	return rec, nil
}

// marshalCatalogue encodes a catalogue for the bytea column: NULL for none, and an
// empty (not NULL) value for an empty one, so that both read back as they were.
func marshalCatalogue(cat *mcpv1.Catalogue) ([]byte, error) {
	if cat == nil {
		return nil, nil
	}
	b, err := proto.Marshal(cat)
	if err != nil {
		return nil, fmt.Errorf("encode catalogue: %w", err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// wrap adds op to a database error and files it under the store's sentinels.
func wrap(op string, err error) error { return sentinels.Wrap(op, err) }

var sentinels = pgdb.Sentinels{NotFound: ErrNotFound, Unavailable: ErrUnavailable}
