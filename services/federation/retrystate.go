package federation

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// The request state of a 2026-07-28 upstream's input_required, relayed statelessly.
// Such an upstream's multi round-trip needs no memory on the federation: its retry
// carries the client's answers and the upstream's own requestState. So the federation
// answers the provider call with input_required at once, under a request state that
// holds everything the retry needs, and any federation replica (or this one after a
// restart) serves the retry by sending the request upstream again.
//
// Integrity: the state carries no signature of its own. It reaches a client only
// through the session service, which signs it (services/session/internal/dispatch,
// requeststate.go: the HMAC-SHA256 covers the version, the expiry, the digests of the
// request's method and name and of the client, and the provider's state; verify checks
// the MAC, with the current or the previous key, before it reads anything, then the
// target, the client and the expiry) and passes a retry's state to the provider only
// once verified (mrtr.go, applyRetry). A stateful client never sees it: the session's
// client-input adapter and the task runner hand the provider's state back as the
// provider returned it (clientinput.go, tasks.go). The federation still checks that
// the state belongs to this upstream, this tool or prompt and this caller: the
// session's binding is to the mesh-wide name and the client's name and version, the
// federation's owner also to the session and the whole clientInfo.
//
// Replays: the state is not spent by a retry. As with a client talking to the
// upstream directly, the upstream decides whether its requestState may be used again
// (basic/patterns/mrtr: single use is the server's to enforce); the session's expiry
// (session.request_state_ttl) bounds it.

// retryStatePrefix marks a stateless retry state; JSON of retryState follows.
const retryStatePrefix = "mcpmesh-federation/2:"

// retryState is what the retry of a relayed input_required needs.
type retryState struct {
	// Upstream is the upstream's configured name.
	Upstream string `json:"upstream"`
	// What is the call it belongs to, as forwardedCall.what ("tool <name>").
	What string `json:"what"`
	// Owner is ownerOf the caller the input was asked of.
	Owner []byte `json:"owner"`
	// Round is how many times this call has asked for client input, this time included.
	Round int `json:"round"`
	// State is the upstream's requestState ("" when it sent none).
	State string `json:"state,omitempty"`
}

// isRetryState tells a stateless retry state from a paused call's (statePrefix).
func isRetryState(state []byte) bool {
	return bytes.HasPrefix(state, []byte(retryStatePrefix))
}

// encode renders the state as request_state bytes.
func (r retryState) encode() ([]byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode request state: %w", err)
	}
	return append([]byte(retryStatePrefix), body...), nil
}

// retryOf reads and checks the retry state in rc for what: it must have been issued
// by this upstream for the same call and caller, within maxInputRounds. A state that
// fails is InvalidArgument (-32602 for the client) saying why and how to start again.
func (u *upstream) retryOf(what string, rc *mcpv1.RequestContext, again string) (*retryState, error) {
	refuse := func(why string) error {
		return status.Errorf(codes.InvalidArgument, "requestState %s. %s without inputResponses and requestState.", why, again)
	}
	body, _ := bytes.CutPrefix(rc.GetRequestState(), []byte(retryStatePrefix))
	var r retryState
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || dec.More() {
		return nil, refuse("is not one the federation issued")
	}
	owner := ownerOf(rc)
	switch {
	case r.Upstream != u.cfg.Name:
		return nil, refuse(fmt.Sprintf("was issued for upstream %q, not %q", r.Upstream, u.cfg.Name))
	case r.What != what:
		return nil, refuse(fmt.Sprintf("was issued for %s, not %s", r.What, what))
	case subtle.ConstantTimeCompare(r.Owner, owner[:]) != 1:
		return nil, refuse("was issued to another client")
	case r.Round < 1 || r.Round > maxInputRounds:
		return nil, refuse(fmt.Sprintf("counts %d rounds of client input; at most %d are allowed", r.Round, maxInputRounds))
	}
	return &r, nil
}
