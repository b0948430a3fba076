// Package tasks keeps the records of MCP tasks: tool calls that run in the background
// after the client got a task handle (2025-11-25 experimental tasks, and the
// 2026-07-28 io.modelcontextprotocol/tasks extension). A record holds the task's
// status and, once it is terminal, the outcome the client retrieves. Memory serves
// one process; Postgres is shared by every replica, so that a task created on one
// replica can be polled, awaited and cancelled through any other.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Status is a task's state.
type Status string

// The task states of both generations.
const (
	Working       Status = "working"
	InputRequired Status = "input_required"
	Completed     Status = "completed"
	Failed        Status = "failed"
	Cancelled     Status = "cancelled"
)

// Terminal reports whether s is final: completed, failed or cancelled.
func (s Status) Terminal() bool { return s == Completed || s == Failed || s == Cancelled }

// Task is one task record. Times are unix milliseconds.
type Task struct {
	ID string
	// SessionID is the owning stateful session; "" for a stateless (2026-07-28) task,
	// which only its unguessable id protects.
	SessionID string
	// Owner is an opaque digest of the principal that created the task
	// (principal.OwnerOf); only that principal finds it, stateless tasks included.
	Owner          string
	Status         Status
	StatusMessage  string
	CreatedUnixMs  int64
	UpdatedUnixMs  int64
	TTLMs          int64 // retention from creation
	PollIntervalMs int64
	// Result is the result object of a finished task (completed, or failed with a tool
	// error in the 2025-11-25 generation); Error the JSON-RPC error of a failed one.
	Result []byte
	Error  *Error
	// InputRequests are the client input requests still unanswered while the task is
	// input_required (a JSON object, key to request); InputResponses the answers given
	// so far (a JSON object, key to result). Both are empty in every other state.
	InputRequests  []byte
	InputResponses []byte
}

// ExpiresUnixMs is when the record may be deleted.
func (t *Task) ExpiresUnixMs() int64 { return t.CreatedUnixMs + t.TTLMs }

// Error is a JSON-RPC error object.
type Error struct {
	Code    int32
	Message string
	Data    []byte
}

// Outcome is how a task ended: Status is Completed or Failed.
type Outcome struct {
	Status        Status
	StatusMessage string
	Result        []byte
	Error         *Error
}

// Position is where a listing continues: after the task created at CreatedUnixMs
// with ID (tasks are listed oldest first, then by id).
type Position struct {
	CreatedUnixMs int64
	ID            string
}

// Store keeps task records. Records past their expiry are not found, even before the
// sweep removes them. Methods are safe for concurrent use.
type Store interface {
	// Create stores a new record (ErrExists if the id is taken).
	Create(ctx context.Context, t Task) error
	// Get returns a record (ErrNotFound if unknown or expired).
	Get(ctx context.Context, id string) (Task, error)
	// List returns up to limit records of a session after pos, and whether more follow.
	List(ctx context.Context, sessionID string, after Position, limit int) ([]Task, bool, error)
	// Finish records a task's outcome unless the task is terminal already (cancelled
	// meanwhile). It returns the record as it is now and whether the outcome was
	// recorded; ErrNotFound if the record is gone.
	Finish(ctx context.Context, id string, o Outcome) (Task, bool, error)
	// Cancel moves a task that is not terminal to cancelled with message. It returns the
	// record as it is now; ErrTerminal (with the record) if it was terminal already.
	Cancel(ctx context.Context, id, message string) (Task, error)
	// CancelledAmong returns which of ids are cancelled (or gone): the running tasks
	// that should stop.
	CancelledAmong(ctx context.Context, ids []string) ([]string, error)
	// Sweep deletes expired records, in bounded batches, and reports how many.
	Sweep(ctx context.Context) (int, error)
	// CountActive counts the live records of a session that are not terminal.
	CountActive(ctx context.Context, sessionID string) (int, error)
	// CountActiveOwned counts the live records of an owner that are not terminal, in
	// every session and stateless.
	CountActiveOwned(ctx context.Context, owner string) (int, error)

	// AwaitInput moves a task that is not terminal to input_required, waiting for the
	// answers to requests (a JSON object, key to request), with message. ErrTerminal
	// (with the record) if it was terminal already.
	AwaitInput(ctx context.Context, id string, requests []byte, message string) (Task, error)
	// AddInput records answers of an input_required task: each answer whose key is
	// still pending leaves InputRequests for InputResponses; other keys are ignored. It
	// returns the record as it is now (unchanged when the task is in another state).
	AddInput(ctx context.Context, id string, answers map[string][]byte) (Task, error)
	// Resume moves an input_required task back to working with message and clears its
	// input fields. ErrTerminal (with the record) if it was terminal already.
	Resume(ctx context.Context, id, message string) (Task, error)
}

// takeAnswers moves the answers whose keys are pending from requests to responses (both
// JSON objects, possibly empty) and reports whether any moved.
func takeAnswers(requests, responses []byte, answers map[string][]byte) (newRequests, newResponses []byte, moved bool, err error) {
	pending := map[string]json.RawMessage{}
	given := map[string]json.RawMessage{}
	if len(requests) > 0 {
		if err := json.Unmarshal(requests, &pending); err != nil {
			return nil, nil, false, fmt.Errorf("read pending input requests: %w", err)
		}
	}
	if len(responses) > 0 {
		if err := json.Unmarshal(responses, &given); err != nil {
			return nil, nil, false, fmt.Errorf("read input responses: %w", err)
		}
	}
	for k, v := range answers {
		if _, ok := pending[k]; ok {
			delete(pending, k)
			given[k] = v
			moved = true
		}
	}
	if !moved {
		return requests, responses, false, nil
	}
	if newRequests, err = json.Marshal(pending); err != nil {
		return nil, nil, false, err
	}
	if newResponses, err = json.Marshal(given); err != nil {
		return nil, nil, false, err
	}
	return newRequests, newResponses, true, nil
}

// Sentinel errors.
var (
	ErrNotFound    = errors.New("task not found")
	ErrExists      = errors.New("task id already exists")
	ErrTerminal    = errors.New("task is already in a terminal status")
	ErrUnavailable = errors.New("task store unavailable")
)

// DefaultSweepBatch is how many records one sweep statement deletes at most.
const DefaultSweepBatch = 1000

// NotifyChannel is the PostgreSQL NOTIFY channel on which Finish and Cancel announce a
// task's change; the payload is EncodePayload(kind, task id). Every replica listens:
// the one running a cancelled task stops it, and requests waiting for a task's end
// look again.
const NotifyChannel = "mcpmesh_session_tasks"

// Payload kinds.
const (
	KindFinished  = 'f'
	KindCancelled = 'c'
	// KindInput: the task's input changed (it waits for input, got some, or resumed).
	KindInput = 'i'
)

// EncodePayload renders a notification payload: the kind byte, then the task id.
func EncodePayload(kind byte, id string) string { return string(kind) + id }

// DecodePayload reads a payload made by EncodePayload.
func DecodePayload(p string) (kind byte, id string, ok bool) {
	if len(p) < 2 || (p[0] != KindFinished && p[0] != KindCancelled && p[0] != KindInput) {
		return 0, "", false
	}
	return p[0], p[1:], true
}

// nowMs is the clock in unix milliseconds.
func nowMs(now func() time.Time) int64 { return now().UnixMilli() }
