package pgdb

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// IsUnavailable reports whether err means the database could not be reached or did not
// answer, so the request may succeed later on any replica (callers map it to gRPC
// Unavailable). True for:
//   - failures to connect (*pgconn.ConnectError: refused, unreachable, connect timeout, and
//     also authentication or missing-database failures — for a client those are an outage
//     too, and readiness is false meanwhile);
//   - a connection lost mid-way (EOF, reset, broken pipe, closed connection) or a closed pool;
//   - timeouts: network timeouts and a context deadline that expired while waiting for the
//     database (context.Canceled is not: the caller went away);
//   - server errors of class 08 (connection exception) and 57P01 admin_shutdown,
//     57P02 crash_shutdown, 57P03 cannot_connect_now.
//
// Other server errors — including 57014 query_canceled from statement_timeout — are false:
// retrying the same statement would fail the same way.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableSQLState(pgErr.Code)
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	if errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// unavailableSQLState reports whether a SQLSTATE means the server cannot serve now.
func unavailableSQLState(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return true
	}
	return strings.HasPrefix(code, "08") // connection_exception class
}
