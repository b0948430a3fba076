package mcphttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"
)

// The 2024-11-05 HTTP+SSE transport, for clients older than Streamable HTTP: GET /sse
// opens an event stream whose first event ("endpoint") names the URL to POST messages
// to, /messages?sessionId=<id>; every answer, notification and server request is an
// event ("message") on that stream, and each POST is answered 202 at once.
//
// The stream lives on the gateway replica that holds GET /sse, so the POSTs of a
// connection must reach the same replica (a load balancer keyed on the sessionId query
// parameter, or one gateway replica). Behind the gateway it is an ordinary stateful
// session: initialize creates it, any transport and session replica serves it, and its
// server-initiated messages come from the session's GET stream (transport.Listen).

// legacyBuffer is how many messages a legacy stream may lag behind before the
// connection is ended (the client reconnects and initializes again).
const legacyBuffer = 64

// legacyConns are the open GET /sse connections of this replica.
type legacyConns struct {
	mu    sync.Mutex
	conns map[string]*legacyConn
}

// legacyConn is one GET /sse connection.
type legacyConn struct {
	ctx    context.Context // ends with the GET request (or shutdown)
	cancel context.CancelFunc
	out    chan []byte

	mu        sync.Mutex
	sessionID string // the MCP session, once initialize answered
}

func (c *legacyConns) add(conn *legacyConn) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id := hex.EncodeToString(b[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns == nil {
		c.conns = map[string]*legacyConn{}
	}
	c.conns[id] = conn
	return id
}

func (c *legacyConns) get(id string) *legacyConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns[id]
}

func (c *legacyConns) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.conns, id)
}

// send queues a message for the stream without blocking; a connection that lags too
// far behind is ended.
func (c *legacyConn) send(data []byte) {
	select {
	case c.out <- data:
	case <-c.ctx.Done():
	default:
		c.cancel()
	}
}

func (c *legacyConn) session() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// LegacySSE serves GET /sse.
func (h *Handler) LegacySSE(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		h.MethodNotAllowed(w, r)
		return
	}
	if !h.checkOrigin(w, r) {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stopDrain := context.AfterFunc(h.drain, cancel)
	defer stopDrain()
	conn := &legacyConn{ctx: ctx, cancel: cancel, out: make(chan []byte, legacyBuffer)}
	id := h.legacy.add(conn)
	defer h.legacy.remove(id)
	defer h.endLegacySession(r, conn)

	hdr := w.Header()
	hdr["Content-Type"] = h.eventStreamType
	hdr["Cache-Control"] = h.noCache
	hdr["X-Accel-Buffering"] = h.no
	w.WriteHeader(http.StatusOK)
	h.streamsOpen.Inc()
	defer h.streamsOpen.Dec()
	sw := newSSEWriter(w, h.keepalive)
	defer sw.close()
	if err := sw.named("endpoint", []byte("/messages?sessionId="+id)); err != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case data := <-conn.out:
			if err := sw.named("message", data); err != nil {
				return
			}
		}
	}
}

// endLegacySession ends the MCP session of a closed legacy connection: the transport
// has no other way to tell it is gone.
func (h *Handler) endLegacySession(r *http.Request, conn *legacyConn) {
	sid := conn.session()
	if sid == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if _, err := h.transport.Close(ctx, &transportv1.CloseRequest{Metadata: &transportv1.RequestMetadata{SessionId: sid}}); err != nil {
		h.logger.DebugContext(ctx, "end the session of a closed legacy SSE connection", "error", err)
	}
}

// LegacyMessages serves POST /messages?sessionId=: the message goes to the transport
// in the background and everything it produces to the connection's stream.
func (h *Handler) LegacyMessages(w http.ResponseWriter, r *http.Request) {
	if !h.checkOrigin(w, r) {
		return
	}
	conn := h.legacy.get(r.URL.Query().Get("sessionId"))
	if conn == nil {
		// Plain text, as the 2024-11-05 transport's servers answer: the client has no
		// stream to read a JSON-RPC error from.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "Not Found: no open /sse connection with this sessionId on this server; open GET /sse again\n")
		return
	}
	if !checkJSONContentType(w, r) {
		return
	}
	body, ok := h.readMessage(w, r)
	if !ok {
		return
	}
	md := &transportv1.RequestMetadata{SessionId: conn.session(), AcceptsJson: true, AcceptsEventStream: true}
	go h.legacyExchange(conn, &transportv1.ExchangeRequest{Metadata: md, Body: body})
	w.WriteHeader(http.StatusAccepted)
}

// legacyExchange runs one message and forwards what the transport answers.
func (h *Handler) legacyExchange(conn *legacyConn, req *transportv1.ExchangeRequest) {
	// The same admission as /mcp POSTs: a legacy client cannot flood the mesh with
	// exchanges running at once.
	active := h.admit.enter(conn.ctx)
	if active == nil {
		return // the connection closed while waiting for its turn
	}
	defer active.release()
	stream, err := h.transport.Exchange(conn.ctx, req)
	if err != nil {
		h.legacyFailure(conn, req.GetBody(), err)
		return
	}
	var ev transportv1.ExchangeResponse
	for {
		if err := stream.RecvMsg(&ev); err != nil {
			if !errors.Is(err, io.EOF) && conn.ctx.Err() == nil {
				h.legacyFailure(conn, req.GetBody(), err)
			}
			return
		}
		if head := ev.GetHead(); head != nil && head.GetSessionId() != "" {
			h.legacyInitialized(conn, head.GetSessionId())
		}
		if m := ev.GetMessage(); m != nil && len(m.GetData()) > 0 {
			conn.send(m.GetData())
		}
	}
}

// legacyInitialized records the connection's session and starts relaying the
// session's own server-initiated messages (resource updates, list changes).
func (h *Handler) legacyInitialized(conn *legacyConn, sessionID string) {
	conn.mu.Lock()
	first := conn.sessionID == ""
	conn.sessionID = sessionID
	conn.mu.Unlock()
	if !first {
		return
	}
	go func() {
		stream, err := h.transport.Listen(conn.ctx, &transportv1.ListenRequest{Metadata: &transportv1.RequestMetadata{
			SessionId: sessionID, AcceptsEventStream: true,
		}})
		if err != nil {
			h.logger.WarnContext(conn.ctx, "legacy SSE connection gets no server-initiated messages", "error", err)
			return
		}
		h.forward(conn, stream, new(transportv1.ListenResponse))
	}()
}

// forward relays the messages of a transport stream to the legacy connection.
func (h *Handler) forward(conn *legacyConn, stream grpc.ClientStream, pe event) {
	for {
		if err := stream.RecvMsg(pe); err != nil {
			return
		}
		if m := pe.GetMessage(); m != nil && len(m.GetData()) > 0 {
			conn.send(m.GetData())
		}
	}
}

// legacyFailure tells the client on its stream that the mesh could not take its
// request (a notification or an answer has nobody to tell).
func (h *Handler) legacyFailure(conn *legacyConn, body []byte, err error) {
	f := failureFor(err)
	errorID := newErrorID()
	h.logger.ErrorContext(conn.ctx, "MCP transport call failed", "op", "legacy", "error_id", errorID, "error", err)
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(body, &msg) != nil || len(msg.ID) == 0 || msg.Method == "" {
		return
	}
	text, _ := json.Marshal(f.message + " (id " + errorID + ")")
	out := append([]byte(`{"jsonrpc":"2.0","id":`), msg.ID...)
	out = append(out, `,"error":{"code":`...)
	out = strconv.AppendInt(out, codeInternalError, 10)
	out = append(out, `,"message":`...)
	out = append(append(out, text...), "}}"...)
	conn.send(out)
}
