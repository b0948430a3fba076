package mcphttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// event is what ExchangeResponse and ListenResponse have in common.
type event interface {
	proto.Message
	GetHead() *transportv1.ResponseHead
	GetMessage() *transportv1.Message
}

// relay writes a transport stream to the HTTP response: the head, then the messages in
// the head's framing. pe (an ExchangeResponse or ListenResponse) receives every event.
func (h *Handler) relay(w http.ResponseWriter, r *http.Request, stream grpc.ClientStream, pe event, op string) {
	head, code, ok := h.recvHead(w, r, stream, pe, op)
	if !ok {
		return
	}
	if id := head.GetSessionId(); id != "" {
		w.Header().Set("Mcp-Session-Id", id)
	}
	switch head.GetFraming() {
	case transportv1.Framing_FRAMING_JSON:
		relayJSON(h, w, r, stream, pe, code, op)
	case transportv1.Framing_FRAMING_EVENT_STREAM:
		relayEvents(h, w, r, stream, pe, code, head.GetRetryMs(), op)
	default: // FRAMING_NONE; UNSPECIFIED is read the same way (a head with no body).
		w.WriteHeader(code)
		drainStream(h, r, stream, pe, op)
	}
}

// recvHead reads the head that starts every transport stream, with its HTTP status;
// when there is none it has answered the client with a failure.
func (h *Handler) recvHead(w http.ResponseWriter, r *http.Request, stream grpc.ClientStream, pe event, op string) (*transportv1.ResponseHead, int, bool) {
	if err := stream.RecvMsg(pe); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("stream ended before its head")
		}
		h.writeFailure(w, r, op, err)
		return nil, 0, false
	}
	head := pe.GetHead()
	if head == nil {
		h.writeFailure(w, r, op, errors.New("first event is not a head"))
		return nil, 0, false
	}
	code, ok := validStatus(head.GetHttpStatus())
	if !ok {
		h.writeFailure(w, r, op, fmt.Errorf("head has HTTP status %d", head.GetHttpStatus()))
		return nil, 0, false
	}
	return head, code, true
}

// relayJSON waits for the one message before writing the head, so that a failure
// before it can still become an error status, and the body gets a Content-Length.
func relayJSON(h *Handler, w http.ResponseWriter, r *http.Request, stream grpc.ClientStream, pe event, code int, op string) {
	err := stream.RecvMsg(pe)
	switch {
	case errors.Is(err, io.EOF):
		w.WriteHeader(code) // a head without a message: an empty body
		return
	case err != nil:
		w.Header().Del("Mcp-Session-Id")
		h.writeFailure(w, r, op, err)
		return
	}
	data := pe.GetMessage().GetData()
	hdr := w.Header()
	hdr["Content-Type"] = h.jsonType
	if bodyAllowed(code) {
		hdr.Set("Content-Length", strconv.Itoa(len(data)))
	}
	w.WriteHeader(code)
	if bodyAllowed(code) {
		if _, err := w.Write(data); err != nil {
			return // the client left; its context cancels the stream
		}
	}
	drainStream(h, r, stream, pe, op)
}

// relayEvents writes every message as a server-sent event and flushes each, with
// keepalive comments while the stream is quiet.
func relayEvents(h *Handler, w http.ResponseWriter, r *http.Request, stream grpc.ClientStream, pe event, code int, retryMs int32, op string) {
	hdr := w.Header()
	hdr["Content-Type"] = h.eventStreamType
	hdr["Cache-Control"] = h.noCache
	hdr["X-Accel-Buffering"] = h.no // nginx would otherwise buffer the stream
	w.WriteHeader(code)

	h.streamsOpen.Inc()
	defer h.streamsOpen.Dec()
	sw := newSSEWriter(w, h.keepalive)
	defer sw.close()
	sw.retryWithNextEvent(retryMs)
	if err := sw.flush(); err != nil { // headers now: the client knows the stream is open
		return
	}
	for {
		err := stream.RecvMsg(pe)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			h.logStreamEnd(r, op, err)
			return
		}
		msg := pe.GetMessage()
		if msg == nil {
			continue // a second head is meaningless here
		}
		if err := sw.event(msg.GetEventId(), msg.GetData()); err != nil {
			return // the client left; its context cancels the stream
		}
	}
}

// drainStream reads a stream to its end so the transport finishes normally instead of
// seeing a cancellation. Messages here have no place in the response and are dropped.
func drainStream(h *Handler, r *http.Request, stream grpc.ClientStream, pe event, op string) {
	dropped := 0
	for {
		err := stream.RecvMsg(pe)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.logStreamEnd(r, op, err)
			break
		}
		dropped++
	}
	if dropped > 0 {
		h.logger.WarnContext(r.Context(), "transport sent messages the framing has no room for",
			"op", op, "dropped", dropped)
	}
}

// logStreamEnd logs a stream that failed after its head was written: the status is gone,
// so the client only sees the stream end.
func (h *Handler) logStreamEnd(r *http.Request, op string, err error) {
	if r.Context().Err() != nil || status.Code(err) == codes.Canceled {
		// The client left, or shutdown ended a GET stream: both are normal.
		h.logger.DebugContext(r.Context(), "MCP stream canceled", "op", op)
		return
	}
	h.logger.WarnContext(r.Context(), "MCP stream failed after its head", "op", op, "error", err)
}
