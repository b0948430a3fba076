package apikeydb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
)

// NotifyChannel carries "the API keys changed" to every gateway replica. The payload
// is empty: a replica that hears it re-reads the table (Follower).
const NotifyChannel = "mcpmesh_apikeys"

// PGStore keeps records in the api_keys table (the session service's migrations create
// it), for a mesh that runs with a database. Create and Revoke notify NotifyChannel in
// the same transaction, so the notification is delivered exactly when the change is
// visible.
type PGStore struct {
	pool *pgxpool.Pool
}

// NewPGStore returns the store in pool's database.
func NewPGStore(pool *pgxpool.Pool) *PGStore { return &PGStore{pool: pool} }

const recordColumns = `name, hash, scopes, created_at, expires_at, revoked_at, last_used_at`

// Load returns every record, by name.
func (s *PGStore) Load(ctx context.Context) ([]apikey.Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM api_keys ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", explain(err))
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (apikey.Record, error) {
		var r apikey.Record
		var expires, revoked, used *time.Time
		if err := row.Scan(&r.Name, &r.Hash, &r.Scopes, &r.CreatedAt, &expires, &revoked, &used); err != nil {
			return apikey.Record{}, err
		}
		r.ExpiresAt, r.RevokedAt, r.LastUsedAt = orZero(expires), orZero(revoked), orZero(used)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", err)
	}
	return recs, nil
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SQLSTATEs the store tells apart.
const (
	uniqueViolation = "23505"
	undefinedTable  = "42P01"
)

// explain adds what to do when the table is missing (the session service's
// migrations create it).
func explain(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == undefinedTable {
		return fmt.Errorf("%w: the api_keys table is missing: run `mcpmesh migrate` against this database (or set database.migrate_on_start: true)", err)
	}
	return err
}

// Create adds r; apikey.ErrExists when its name is taken.
func (s *PGStore) Create(ctx context.Context, r apikey.Record) error {
	scopes := r.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	err := s.change(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (`+recordColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			r.Name, r.Hash, scopes, r.CreatedAt, orNull(r.ExpiresAt), orNull(r.RevokedAt), orNull(r.LastUsedAt))
		return err
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && pgErr.ConstraintName == "api_keys_pkey":
		return fmt.Errorf("%w: %s", apikey.ErrExists, r.Name)
	case err != nil:
		return fmt.Errorf("create API key: %w", explain(err))
	}
	return nil
}

// Revoke marks the key called name revoked at now (a key revoked before keeps its
// first revocation time).
func (s *PGStore) Revoke(ctx context.Context, name string, now time.Time) error {
	err := s.change(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE name = $1`, name, now)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: %s", apikey.ErrUnknown, name)
		}
		return err
	})
	if err != nil && !errors.Is(err, apikey.ErrUnknown) {
		return fmt.Errorf("revoke API key: %w", explain(err))
	}
	return err
}

// change runs write and the notification in one transaction.
func (s *PGStore) change(ctx context.Context, write func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, NotifyChannel)
		return err
	})
}

// TouchLastUsed records the last use of the keys with these hashes (never moving a
// last use back). It does not notify: a last use changes nothing a verifier checks.
func (s *PGStore) TouchLastUsed(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	hashes, times := make([]string, 0, len(used)), make([]time.Time, 0, len(used))
	for h, t := range used {
		hashes, times = append(hashes, h), append(times, t)
	}
	_, err := s.pool.Exec(ctx, `UPDATE api_keys k SET last_used_at = greatest(k.last_used_at, u.at)
		FROM unnest($1::text[], $2::timestamptz[]) AS u(hash, at) WHERE k.hash = u.hash`, hashes, times)
	if err != nil {
		return fmt.Errorf("record API key use: %w", err)
	}
	return nil
}
