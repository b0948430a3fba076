// Package pending correlates the server-to-client requests of stateful sessions
// (sampling, elicitation, roots) with the client's answers. The replica that sent a
// request waits for its answer; the answer arrives with a later POST, which may reach
// any replica: Deliver hands it over. Memory serves one process; a shared
// implementation carries answers between replicas.
package pending

import (
	"context"
	"errors"
)

// Answer is a client's answer: a result object, or an error.
type Answer struct {
	Result []byte
	Error  *Error
}

// Error is a JSON-RPC error object from the client.
type Error struct {
	Code    int32
	Message string
	Data    []byte
}

// Waiter is one expected answer.
type Waiter interface {
	// C delivers the answer (at most one).
	C() <-chan Answer
	// Close stops waiting; a later answer is not delivered. Safe to call twice.
	Close()
}

// Store correlates requests and answers. Methods are safe for concurrent use.
type Store interface {
	// Expect registers that the session's request id waits for an answer. id is the
	// JSON-RPC id as sent (raw JSON).
	Expect(ctx context.Context, sessionID string, id []byte) (Waiter, error)
	// Deliver hands an answer to the waiter of (session, id). delivered is false when
	// nobody waits (unknown id, answered already, or the waiter gave up).
	Deliver(ctx context.Context, sessionID string, id []byte, a Answer) (delivered bool, err error)
}

// ErrExists means the id is already expected for the session.
var ErrExists = errors.New("a request with this id already waits for an answer")
