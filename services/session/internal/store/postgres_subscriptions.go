package store

import (
	"context"
	"fmt"
)

// subscribeSQL inserts a subscription of a live session that has room for it; the
// count and the insert are one statement, so concurrent subscribes cannot pass the
// limit by much (at most by the number racing).
const subscribeSQL = `INSERT INTO session_subscriptions (session_id, uri)
SELECT $1, $3 FROM sessions s
WHERE s.id = $1 AND s.last_seen_unix_ms >= $2
  AND (SELECT count(*) FROM session_subscriptions WHERE session_id = $1) < $4
ON CONFLICT DO NOTHING`

// Subscribe records a resource subscription of a live session.
func (p *Postgres) Subscribe(ctx context.Context, id, uri string) error {
	op := fmt.Sprintf("subscribe session %s", id)
	tag, err := p.pool.Exec(ctx, subscribeSQL, id, p.liveSince(p.now()), uri, MaxSubscriptions)
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	// Nothing inserted: already subscribed, over the limit, or no such session.
	var subscribed, live bool
	var count int
	err = p.pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM session_subscriptions WHERE session_id = $1 AND uri = $3),
		EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND last_seen_unix_ms >= $2),
		(SELECT count(*) FROM session_subscriptions WHERE session_id = $1)`,
		id, p.liveSince(p.now()), uri).Scan(&subscribed, &live, &count)
	switch {
	case err != nil:
		return wrap(op, err)
	case !live:
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case subscribed:
		return nil
	default:
		return fmt.Errorf("%s: %w", op, ErrTooManySubscriptions)
	}
}

// Unsubscribe removes a resource subscription of a live session.
func (p *Postgres) Unsubscribe(ctx context.Context, id, uri string) error {
	op := fmt.Sprintf("unsubscribe session %s", id)
	var live bool
	err := p.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM session_subscriptions WHERE session_id = $1 AND uri = $3)
		SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND last_seen_unix_ms >= $2)`,
		id, p.liveSince(p.now()), uri).Scan(&live)
	if err != nil {
		return wrap(op, err)
	}
	if !live {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// Subscribers lists the live sessions subscribed to uri.
func (p *Postgres) Subscribers(ctx context.Context, uri string) ([]string, error) {
	op := fmt.Sprintf("list subscribers of %s", uri)
	rows, err := p.pool.Query(ctx, `SELECT s.id FROM session_subscriptions sub
		JOIN sessions s ON s.id = sub.session_id
		WHERE sub.uri = $1 AND s.last_seen_unix_ms >= $2`, uri, p.liveSince(p.now()))
	if err != nil {
		return nil, wrap(op, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return ids, nil
}
