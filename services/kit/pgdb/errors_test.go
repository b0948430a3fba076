package pgdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestSentinelsWrap(t *testing.T) {
	notFound, exists, unavailable := errors.New("not found"), errors.New("exists"), errors.New("unavailable")
	all := Sentinels{NotFound: notFound, Exists: exists, Unavailable: unavailable}
	tests := []struct {
		name string
		s    Sentinels
		err  error
		want error // nil: none of the sentinels
	}{
		{"no rows", all, fmt.Errorf("scan: %w", pgx.ErrNoRows), notFound},
		{"unique violation", all, &pgconn.PgError{Code: "23505"}, exists},
		{"database unreachable", all, fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P01"}), unavailable},
		{"other server error", all, &pgconn.PgError{Code: "57014"}, nil},
		{"no rows without a NotFound sentinel", Sentinels{Unavailable: unavailable}, pgx.ErrNoRows, nil},
		{"unique violation without an Exists sentinel", Sentinels{NotFound: notFound}, &pgconn.PgError{Code: "23505"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.s.Wrap("do it", tc.err)
			if !strings.HasPrefix(got.Error(), "do it: ") {
				t.Fatalf("Wrap = %v, want the operation first", got)
			}
			if tc.want == nil && !errors.Is(got, tc.err) {
				t.Fatalf("Wrap = %v, want the cause kept", got)
			}
			for _, sentinel := range []error{notFound, exists, unavailable} {
				want := errors.Is(tc.want, sentinel) // the sentinels are distinct values
				if errors.Is(got, sentinel) != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", got, sentinel, !want, want)
				}
			}
		})
	}
}

// batchesOf is an Execer that deletes from a count of rows, batch by batch.
type batchesOf struct {
	rows  int
	calls int
	args  [][]any
}

func (b *batchesOf) Exec(_ context.Context, _ string, args ...any) (pgconn.CommandTag, error) {
	b.calls++
	b.args = append(b.args, args)
	n := min(b.rows, args[len(args)-1].(int))
	b.rows -= n
	return pgconn.NewCommandTag(fmt.Sprintf("DELETE %d", n)), nil
}

func TestDeleteInBatches(t *testing.T) {
	for _, tc := range []struct{ rows, batch, calls int }{
		{0, 3, 1}, {2, 3, 1}, {3, 3, 2}, {7, 3, 3},
	} {
		db := &batchesOf{rows: tc.rows}
		removed, err := DeleteInBatches(t.Context(), db, tc.batch, "DELETE …", int64(42))
		if err != nil || removed != tc.rows || db.calls != tc.calls {
			t.Errorf("%d rows in batches of %d: removed %d in %d statements (%v), want %d in %d", tc.rows, tc.batch, removed, db.calls, err, tc.rows, tc.calls)
		}
		for _, a := range db.args {
			if len(a) != 2 || a[0] != int64(42) || a[1] != tc.batch {
				t.Fatalf("statement arguments %v, want the cutoff then the batch size", a)
			}
		}
	}
}
