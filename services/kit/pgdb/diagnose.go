package pgdb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Problem classifies why a database could not be used, for start-up decisions.
type Problem int

// Problems, from the ones that pass by themselves to the ones that need a person.
const (
	// ProblemNone: no error.
	ProblemNone Problem = iota
	// ProblemUnreachable: the server did not answer (refused, timeout, name not
	// resolved yet); it may come back, so a service keeps running, not ready.
	ProblemUnreachable
	// ProblemDatabaseMissing: the server answered, but the database does not exist.
	ProblemDatabaseMissing
	// ProblemCredentials: the server rejected the user or the password.
	ProblemCredentials
	// ProblemTLSRefused: the URL demands TLS (sslmode=require or stricter) and the
	// server does not offer it.
	ProblemTLSRefused
	// ProblemOther: any other failure.
	ProblemOther
)

// NeedsOperator reports whether the problem stays until someone changes the
// configuration or the server: waiting will not fix it.
func (p Problem) NeedsOperator() bool {
	return p == ProblemDatabaseMissing || p == ProblemCredentials || p == ProblemTLSRefused
}

// Diagnose classifies err (from connecting or pinging) and says in one line what is
// wrong and what to do, without the password. cfg supplies the names in the message.
func Diagnose(err error, cfg Config) (Problem, string) {
	if err == nil {
		return ProblemNone, ""
	}
	where := describeTarget(err, cfg)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "3D000": // invalid_catalog_name
			return ProblemDatabaseMissing, fmt.Sprintf("database %q does not exist on the server: create it (createdb %s) or fix database.url", where.database, where.database)
		case pgErr.Code == "28P01": // invalid_password
			return ProblemCredentials, fmt.Sprintf("password authentication failed for user %q: check the password in database.url or database.password_file", where.user)
		case strings.HasPrefix(pgErr.Code, "28"): // invalid_authorization_specification: unknown role, pg_hba.conf
			return ProblemCredentials, fmt.Sprintf("the server rejected user %q: %s: check the user in database.url and the server's pg_hba.conf", where.user, pgErr.Message)
		}
	}
	text := err.Error()
	switch {
	case strings.Contains(text, "server refused TLS connection"):
		return ProblemTLSRefused, fmt.Sprintf("the server at %s does not offer TLS, but database.url asks for it (sslmode=require or stricter): enable TLS on the server, or use sslmode=disable on a trusted network", where.address)
	case errors.Is(err, syscall.ECONNREFUSED):
		return ProblemUnreachable, fmt.Sprintf("connection refused at %s: is PostgreSQL running and listening there?", where.address)
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return ProblemUnreachable, fmt.Sprintf("no answer from %s within the connect timeout (database.connect_timeout)", where.address)
	case strings.Contains(text, "no such host"):
		return ProblemUnreachable, fmt.Sprintf("host of %s not found (DNS)", where.address)
	case IsUnavailable(err):
		return ProblemUnreachable, fmt.Sprintf("database at %s unreachable", where.address)
	}
	return ProblemOther, fmt.Sprintf("database %s: %v", cfg.Redacted(), err)
}

// target names what a connection attempt was aimed at.
type target struct{ address, database, user string }

// describeTarget takes the names from the connect error when there is one (it knows
// the host actually tried), else from the configuration.
func describeTarget(err error, cfg Config) target {
	t := target{address: "the configured host"}
	if pc, perr := poolConfig(cfg.withDefaults()); perr == nil {
		c := pc.ConnConfig
		t = target{address: cfg.Address(), database: c.Database, user: c.User}
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) && connectErr.Config != nil {
		c := connectErr.Config
		t = target{address: net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))), database: c.Database, user: c.User}
	}
	return t
}
