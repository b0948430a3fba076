package pgdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinels are a store's domain errors under which database failures are filed. A
// nil member is not used: the error is only wrapped with its operation.
type Sentinels struct {
	// NotFound is for a query that returned no row (pgx.ErrNoRows).
	NotFound error
	// Exists is for a unique violation (SQLSTATE 23505).
	Exists error
	// Unavailable is for a database that could not be reached (IsUnavailable); the
	// cause is kept for the logs.
	Unavailable error
}

// Wrap adds op to err and files it under the matching sentinel.
func (s Sentinels) Wrap(op string, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case s.NotFound != nil && errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", op, s.NotFound)
	case s.Exists != nil && errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return fmt.Errorf("%s: %w", op, s.Exists)
	case s.Unavailable != nil && IsUnavailable(err):
		return fmt.Errorf("%s: %w: %w", op, s.Unavailable, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// Execer runs a statement (pgxpool.Pool, pgx.Conn and pgx.Tx satisfy it).
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// DeleteInBatches runs a batched DELETE until a batch comes back short and reports how
// many rows it removed. The statement's last parameter is the batch size; args are the
// ones before it. Each batch is its own short statement, so no sweep holds row locks
// or a long transaction.
func DeleteInBatches(ctx context.Context, db Execer, batch int, sql string, args ...any) (int, error) {
	args = append(args[:len(args):len(args)], batch)
	removed := 0
	for {
		tag, err := db.Exec(ctx, sql, args...)
		if err != nil {
			return removed, err
		}
		n := int(tag.RowsAffected())
		removed += n
		if n < batch {
			return removed, nil
		}
	}
}
