package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// adminTimeout bounds CREATE/DROP DATABASE.
const adminTimeout = 30 * time.Second

// NewDatabase creates a fresh, uniquely named database on the DSN server and returns its
// URL. It is dropped WITH (FORCE) at t.Cleanup — after cleanups registered later (pools
// closed by the test), and terminating any connection still open.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := DSN(t)
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if err := admin(ctx, server, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if err := admin(ctx, server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(server, name)
}

// admin runs one statement on its own short-lived connection.
func admin(ctx context.Context, server, statement string) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	_, err = conn.Exec(ctx, statement)
	return err
}

// databaseName is "t_<test name>_<random>" cut to PostgreSQL's 63-byte identifier limit,
// readable in pg_stat_activity and unique across parallel tests and binaries.
func databaseName(testName string) string {
	var random [6]byte
	_, _ = rand.Read(random[:])
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if b.Len() == 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "t_" + b.String() + "_" + hex.EncodeToString(random[:])
}

// withDatabase returns the server URL or key=value DSN pointing at database name.
func withDatabase(server, name string) string {
	if u, err := url.Parse(server); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	return server + " dbname=" + name // later keys win in a key=value DSN
}
