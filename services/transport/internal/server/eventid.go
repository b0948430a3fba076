package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
)

// eventIDs numbers the SSE events of a POST's event stream as "<stream-id>_<seq>": the
// stream id is random per stream, so ids are unique across every stream of a session.
// The GET stream's ids come from the session's event store instead ("s<seq>"), so a
// Last-Event-ID of a POST stream is not resumable and a GET with it starts afresh. A nil
// *eventIDs (stateless streams, which are not resumable) yields empty ids.
type eventIDs struct {
	stream string
	seq    uint64
}

func newEventIDs() *eventIDs {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return &eventIDs{stream: hex.EncodeToString(b[:])}
}

func (e *eventIDs) next() string {
	if e == nil {
		return ""
	}
	e.seq++
	return e.stream + "_" + strconv.FormatUint(e.seq, 10)
}
