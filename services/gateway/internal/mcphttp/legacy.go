package mcphttp

import (
	"context"
	"errors"
	"io"
	"net/http"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
)

// The 2024-11-05 HTTP+SSE transport, for clients older than Streamable HTTP: GET /sse
// opens an event stream whose first event ("endpoint") names the URL to POST messages
// to, /messages?sessionId=<id>; every answer, notification and server request is an
// event ("message") on that stream, and each POST is answered 202 at once.
//
// The gateway holds no state for it: the transport's LegacyConnect stream carries the
// connection, and LegacyPost runs a message on any replica, whose answers reach the
// stream through the session service. So the POSTs of a connection may reach any
// gateway replica, like every other request.

// msgNoConnection answers a POST for a connection no replica has open. Plain text, as
// the 2024-11-05 transport's servers answer: the client has no stream to read a
// JSON-RPC error from.
const msgNoConnection = "Not Found: no open /sse connection with this sessionId; open GET /sse again\n"

// LegacySSE serves GET /sse: transport.LegacyConnect as named events.
func (h *Handler) LegacySSE(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		h.MethodNotAllowed(w, r)
		return
	}
	if !h.checkOrigin(w, r) {
		return
	}
	// The stream ends when the client leaves or the server shuts down; its end ends
	// the connection's session.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stopDrain := context.AfterFunc(h.drain, cancel)
	defer stopDrain()
	const op = "legacy connect"
	stream, err := h.transport.LegacyConnect(ctx, &transportv1.LegacyConnectRequest{})
	if err != nil {
		h.writeFailure(w, r, op, err)
		return
	}
	ev := new(transportv1.LegacyConnectResponse)
	head, code, ok := h.recvHead(w, r, stream, ev, op)
	switch {
	case !ok:
		return
	case head.GetFraming() == transportv1.Framing_FRAMING_JSON:
		relayJSON(h, w, r, stream, ev, code, op) // an error, such as 503
		return
	case head.GetFraming() != transportv1.Framing_FRAMING_EVENT_STREAM || head.GetSessionId() == "":
		h.writeFailure(w, r, op, errors.New("head opens no event stream for a connection"))
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = h.eventStreamType
	hdr["Cache-Control"] = h.noCache
	hdr["X-Accel-Buffering"] = h.no
	w.WriteHeader(http.StatusOK)
	h.streamsOpen.Inc()
	defer h.streamsOpen.Dec()
	sw := newSSEWriter(w, h.keepalive)
	defer sw.close()
	if err := sw.named("endpoint", []byte("/messages?sessionId="+head.GetSessionId())); err != nil {
		return
	}
	for {
		if err := stream.RecvMsg(ev); err != nil {
			if !errors.Is(err, io.EOF) {
				h.logStreamEnd(r, op, err)
			}
			return
		}
		if m := ev.GetMessage(); len(m.GetData()) > 0 {
			if err := sw.named("message", m.GetData()); err != nil {
				return
			}
		}
	}
}

// LegacyMessages serves POST /messages?sessionId=: transport.LegacyPost answers 202
// (or 404), then runs the message past the end of this request; its answers go to
// the connection's stream, on whichever replica holds it.
func (h *Handler) LegacyMessages(w http.ResponseWriter, r *http.Request) {
	if !h.checkOrigin(w, r) {
		return
	}
	id := r.URL.Query().Get("sessionId")
	if id == "" {
		writeNoConnection(w)
		return
	}
	if !checkJSONContentType(w, r) {
		return
	}
	body, ok := h.readMessage(w, r)
	if !ok {
		return
	}
	// The same admission as /mcp POSTs: a legacy client cannot flood the mesh with
	// exchanges running at once.
	active := h.admit.enter(r.Context())
	if active == nil {
		return // the client left while waiting for its turn
	}
	// The message runs until the transport is done with it or the gateway shuts down,
	// not until this request ends.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	stopDrain := context.AfterFunc(h.drain, cancel)
	done := func() {
		stopDrain()
		cancel()
		active.release()
	}
	const op = "legacy post"
	stream, err := h.transport.LegacyPost(ctx, &transportv1.LegacyPostRequest{ConnectionId: id, Body: body})
	var resp transportv1.LegacyPostResponse
	if err == nil {
		err = stream.RecvMsg(&resp)
	}
	if err != nil {
		done()
		h.writeFailure(w, r, op, err)
		return
	}
	code, ok := validStatus(resp.GetHead().GetHttpStatus())
	switch {
	case code == http.StatusAccepted:
		w.WriteHeader(code)
		go func() {
			defer done()
			h.finishLegacyPost(ctx, stream)
		}()
	case code == http.StatusNotFound:
		done()
		writeNoConnection(w)
	case ok:
		done()
		w.WriteHeader(code)
	default:
		done()
		h.writeFailure(w, r, op, errors.New("head has no valid HTTP status"))
	}
}

// finishLegacyPost waits for the transport to finish a message it accepted.
func (h *Handler) finishLegacyPost(ctx context.Context, stream interface{ RecvMsg(any) error }) {
	var resp transportv1.LegacyPostResponse
	for {
		err := stream.RecvMsg(&resp)
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && ctx.Err() == nil {
			h.logger.WarnContext(ctx, "2024-11-05 message failed after its 202", "error", err)
		}
		return
	}
}

func writeNoConnection(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, msgNoConnection)
}
