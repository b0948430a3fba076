package dispatch

import (
	"strings"

	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// Cancellation across replicas: notifications/cancelled may reach another session
// replica than the one running the call. When the call does not run here, the
// dispatcher asks its peers (through Deps.CancelPeers, a
// PostgreSQL notification in the service), and each peer cancels the call if it runs
// there (CancelFromPeer).

// cancelPayload renders (session, request id) for CancelFromPeer: the session id and
// the normalised request id on two lines (session ids are visible ASCII).
func cancelPayload(sessionID string, id []byte) (string, bool) {
	norm, ok := mcpjson.NormalizeID(id)
	if !ok || sessionID == "" || strings.ContainsAny(sessionID, "\n\x00") || strings.ContainsRune(norm, 0) {
		return "", false
	}
	return sessionID + "\n" + norm, true
}

// CancelFromPeer cancels the call a peer was asked to cancel, if it runs here. It
// never blocks.
func (d *Dispatcher) CancelFromPeer(payload string) {
	sessionID, norm, ok := strings.Cut(payload, "\n")
	if !ok || sessionID == "" || norm == "" {
		return
	}
	d.inflight.cancelKey(sessionID + "\x00" + norm)
}

// cancelHereOrOnPeers cancels a call of this replica, or asks the peers.
func (d *Dispatcher) cancelHereOrOnPeers(sessionID string, id []byte) {
	if d.inflight.cancel(sessionID, id) || d.cancelPeers == nil {
		return
	}
	if payload, ok := cancelPayload(sessionID, id); ok {
		d.cancelPeers(payload)
	}
}
