// Package events is the session service's event store: the server-initiated messages
// of each stateful session (notifications/resources/updated, list_changed), numbered
// in order and kept for a retention window, so that a client that reconnects its GET
// stream with Last-Event-ID receives what it missed. Memory is the single-process
// default; a shared implementation lets the reconnect reach any replica.
//
// A Waker tells the Listen streams of a session that new events were appended.
package events

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Event is one stored server-initiated message, without its JSON-RPC envelope.
type Event struct {
	// Seq numbers the session's events from 1, without gaps.
	Seq    int64
	Method string
	// Params is a JSON object.
	Params []byte
}

// Draft is an event to append.
type Draft struct {
	Method string
	Params []byte
	// Origin, when set, names the change that produced the event. Appending a draft
	// whose origin the session's retained events already have is a no-op: every
	// replica hears of a provider's change and tries to record it.
	Origin string
}

// Window is the range of a session's events a reader can resume from: every event
// with First <= Seq <= Head is retained. First is Head+1 when none is.
type Window struct {
	First int64
	Head  int64
}

// Resumable reports whether a reader that has seen every event up to after can be
// given all the events it missed.
func (w Window) Resumable(after int64) bool { return after >= w.First-1 && after <= w.Head }

// Log stores events. Every method is safe for concurrent use.
type Log interface {
	// Append records the drafts in order (skipping those whose origin is already
	// recorded) and wakes the session's readers.
	Append(ctx context.Context, sessionID string, drafts ...Draft) error
	// Read returns up to limit events with Seq > after, in order.
	Read(ctx context.Context, sessionID string, after int64, limit int) ([]Event, error)
	// Window reports what is retained for the session.
	Window(ctx context.Context, sessionID string) (Window, error)
	// Forget drops the session's events (the session ended) and wakes its readers.
	Forget(ctx context.Context, sessionID string) error
	// Sweep drops events recorded before the cutoff and reports how many.
	Sweep(ctx context.Context, before time.Time) (int, error)
}

// ErrUnavailable means the store could not be reached; the caller may retry.
var ErrUnavailable = errors.New("event store unavailable")

// idPrefix marks the SSE event ids of Listen streams, so a Last-Event-ID from another
// kind of stream (a POST response stream) is recognised as not resumable here.
const idPrefix = "s"

// ID renders a sequence number as an SSE event id.
func ID(seq int64) string { return idPrefix + strconv.FormatInt(seq, 10) }

// ParseID reads an id made by ID; ok is false for anything else.
func ParseID(id string) (seq int64, ok bool) {
	rest, found := strings.CutPrefix(id, idPrefix)
	if !found || rest == "" || len(rest) > 19 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	// Only the canonical form ID makes: no sign, no leading zeros.
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != rest {
		return 0, false
	}
	return n, true
}
