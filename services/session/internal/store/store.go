// Package store keeps session records: small structs, created by initialize, touched
// by every request, expired after a period of inactivity. Memory is the single-process
// default; Postgres is shared by replicas, so any replica serves any session.
//
// Sessions also keep their resource subscriptions (resources/subscribe), so that any
// replica can tell who to notify when a resource changes.
//
// Cached is a short read cache in front of Postgres, invalidated by LISTEN/NOTIFY and
// fenced so that a session's own writes are visible to its next request on any replica.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound means the session does not exist: never created, deleted or expired.
var ErrNotFound = errors.New("session not found")

// ErrExists means a session with the same id is already stored.
var ErrExists = errors.New("session already exists")

// ErrTooManySubscriptions means a session reached MaxSubscriptions.
var ErrTooManySubscriptions = errors.New("too many resource subscriptions in this session")

// MaxSubscriptions bounds the resource subscriptions of one session, so a client
// cannot grow its record without limit.
const MaxSubscriptions = 1000

// ErrUnavailable means the store could not be reached (the database is down or
// unreachable); the request may succeed when retried.
var ErrUnavailable = errors.New("session store unavailable")

// Session is one stateful MCP session. Byte slices are JSON objects and are never
// modified after Create, so copies of a Session may share them.
type Session struct {
	ID                 string
	ProtocolVersion    string
	ClientInfo         []byte
	ClientCapabilities []byte
	// LogLevel is the level set by logging/setLevel; empty when none was set.
	LogLevel       string
	Initialized    bool
	CreatedUnixMs  int64
	LastSeenUnixMs int64
	// Owner identifies the principal that created the session (an opaque digest; empty
	// when it was created without one). Only that principal may use it.
	Owner string
}

// Store keeps sessions. Every method is safe for concurrent use. Get, Touch,
// SetLogLevel and MarkInitialized return ErrNotFound for a session that is missing or
// has been idle for longer than the store's idle timeout, even before a sweep.
type Store interface {
	Create(ctx context.Context, s Session) error
	Get(ctx context.Context, id string) (Session, error)
	// Touch records activity at now.
	Touch(ctx context.Context, id string, now time.Time) error
	SetLogLevel(ctx context.Context, id, level string) error
	MarkInitialized(ctx context.Context, id string) error
	Delete(ctx context.Context, id string) error
	// Subscribe adds a resource subscription (idempotent); ErrTooManySubscriptions
	// past MaxSubscriptions.
	Subscribe(ctx context.Context, id, uri string) error
	// Unsubscribe removes a resource subscription; removing an absent one is fine.
	Unsubscribe(ctx context.Context, id, uri string) error
	// Subscribers lists the live sessions subscribed to uri.
	Subscribers(ctx context.Context, uri string) ([]string, error)
	// CountLive counts the sessions that have not expired.
	CountLive(ctx context.Context) (int64, error)
	// SweepExpired removes the sessions idle since before now minus the idle timeout
	// and reports how many it removed.
	SweepExpired(ctx context.Context, now time.Time) (int, error)
}
