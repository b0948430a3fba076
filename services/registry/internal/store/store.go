// Package store keeps provider records for the registry behind a narrow interface, so
// that the in-memory default and a PostgreSQL implementation are interchangeable.
// Memory serves a single process; Postgres is shared by replicas and checks leases
// atomically in SQL, so several replicas may register, renew, deregister and sweep at
// once.
//
// Changes written by another replica reach this one through the registry's NOTIFY
// (see the registry package), not through the store.
package store

import (
	"context"
	"errors"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// ErrNotFound means no live record matches: the name is unknown, the lease id does not
// match, or the lease has expired.
var ErrNotFound = errors.New("provider record not found")

// ErrUnavailable means the store could not be reached (its database is down or
// unreachable); the call may succeed when retried.
var ErrUnavailable = errors.New("registry store unavailable")

// Record is one provider as the registry knows it. Records are immutable once stored:
// implementations and callers share them without copying.
type Record struct {
	Name    string
	Address string
	// LeaseID is empty for statically configured providers.
	LeaseID string
	// Lease is the length granted at registration; each heartbeat renews it.
	Lease time.Duration
	// LeaseExpiresAt is zero for statically configured providers (no expiry).
	LeaseExpiresAt time.Time
	RegisteredAt   time.Time
	Version        string
	Instructions   string
	Catalogue      *mcpv1.Catalogue
	// Owner is the identity that registered the provider (see registry's ownership
	// rules); empty for static providers and registrations without one.
	Owner string
	// Announced counts the list changes the provider announced (Redescribe's
	// announce) since the store first held a record of its name.
	Announced Announced
}

// Announced counts, per list, the changes a provider announced: lists it said changed
// although its description may not show it (a federated server's list_changed). As an
// argument of Redescribe it is the increment.
type Announced struct {
	Tools, Resources, Prompts int64
}

// add returns the sum of a and b.
func (a Announced) add(b Announced) Announced {
	return Announced{Tools: a.Tools + b.Tools, Resources: a.Resources + b.Resources, Prompts: a.Prompts + b.Prompts}
}

// Static reports whether the record came from configuration rather than a lease.
func (r Record) Static() bool { return r.LeaseID == "" }

// Expired reports whether the lease has run out at now. Static records never expire.
func (r Record) Expired(now time.Time) bool {
	return !r.LeaseExpiresAt.IsZero() && !now.Before(r.LeaseExpiresAt)
}

// Store holds provider records by name. Implementations are safe for concurrent use.
type Store interface {
	// Put adds or replaces the record with the same name. rec.Announced is ignored: a
	// new record starts at zero, a replaced one keeps its counts (a provider that
	// registers again has announced nothing new).
	Put(ctx context.Context, rec Record) error
	// Get returns the record named name, expired or not, or ErrNotFound.
	Get(ctx context.Context, name string) (Record, error)
	// Renew extends a live lease to now plus the record's Lease. It returns ErrNotFound
	// when the name is unknown, the lease id differs or the lease expired at now.
	Renew(ctx context.Context, name, leaseID string, now time.Time) (Record, error)
	// Redescribe replaces the Version, Instructions and Catalogue of the record named
	// rec.Name and adds announce to its Announced counts, provided it still has rec's
	// LeaseID and Address: a registration that happened in between (on any replica)
	// wins. It returns the updated record, or ErrNotFound when no record matches.
	Redescribe(ctx context.Context, rec Record, announce Announced) (Record, error)
	// Delete removes the record named name if its lease id is leaseID, or ErrNotFound.
	Delete(ctx context.Context, name, leaseID string) error
	// DeleteExpired removes every lease that expired at now and returns their names.
	DeleteExpired(ctx context.Context, now time.Time) ([]string, error)
	// List returns every record, in no particular order.
	List(ctx context.Context) ([]Record, error)
}
