package mcphttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/errorid"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// Gauge is the part of a Prometheus gauge the handler uses.
type Gauge interface {
	Inc()
	Dec()
}

// Config configures a Handler.
type Config struct {
	MaxBodyBytes   int64
	AllowedOrigins []string
	// AllowedHosts are Host header values accepted besides the loopback names on a
	// loopback bind; on other binds, the only ones accepted (empty: any). "*": any.
	AllowedHosts []string
	// LoopbackBind says the gateway listens on a loopback address only, which turns
	// on DNS-rebinding protection (see hostPolicy).
	LoopbackBind      bool
	KeepaliveInterval time.Duration
	// MaxActive bounds the POST exchanges running at once (see admission); 0 means
	// 32 per CPU. ActiveHold is how long an exchange keeps its slot at most; 0 means
	// 50 ms.
	MaxActive  int
	ActiveHold time.Duration
	// Denied, when set, answers a transport error that is an authorization denial and
	// reports true; other errors get the usual failure answer.
	Denied func(w http.ResponseWriter, r *http.Request, err error) bool
}

// Handler serves /mcp.
type Handler struct {
	logger      *slog.Logger
	transport   transportv1.TransportServiceClient
	maxBody     int64
	origins     originPolicy
	hosts       hostPolicy
	keepalive   time.Duration
	streamsOpen Gauge
	// drain ends at shutdown: GET streams close so clients resume elsewhere.
	drain context.Context

	tooLarge []byte // the 413 body, built once
	denied   func(w http.ResponseWriter, r *http.Request, err error) bool
	admit    *admission
	// Header values shared by every response, so setting them allocates nothing.
	// net/http only reads them.
	jsonType, eventStreamType, noCache, no []string
}

// exchange holds what one POST needs, in one allocation. It is not reused: in-process
// calls share the request (and its body bytes) with the transport, the session and the
// provider instead of copying it, and a handler down the chain may still read them
// after the gateway is done (a cancelled call, a provider finishing after its result).
type exchange struct {
	md   transportv1.RequestMetadata
	req  transportv1.ExchangeRequest
	resp transportv1.ExchangeResponse // reused for every event of the stream
}

// New returns a Handler. drain ends when the server shuts down.
func New(cfg Config, logger *slog.Logger, transport transportv1.TransportServiceClient, streamsOpen Gauge, drain context.Context) *Handler {
	h := &Handler{
		logger:      logger,
		transport:   transport,
		maxBody:     cfg.MaxBodyBytes,
		origins:     newOriginPolicy(cfg.AllowedOrigins),
		hosts:       newHostPolicy(cfg.AllowedHosts, cfg.LoopbackBind),
		keepalive:   cfg.KeepaliveInterval,
		streamsOpen: streamsOpen,
		drain:       drain,
		tooLarge: appendRPCError(nil, mcpproto.CodeInvalidRequest,
			fmt.Sprintf("request body exceeds the limit of %d bytes", cfg.MaxBodyBytes)),
		admit:           newAdmission(cfg.MaxActive, cfg.ActiveHold),
		denied:          cfg.Denied,
		jsonType:        []string{"application/json"},
		eventStreamType: []string{"text/event-stream"},
		noCache:         []string{"no-cache"},
		no:              []string{"no"},
	}
	return h
}

// Post handles a client message: checks, then transport.Exchange, then the stream.
func (h *Handler) Post(w http.ResponseWriter, r *http.Request) {
	if !h.checkOrigin(w, r) {
		return
	}
	if !checkJSONContentType(w, r) {
		return
	}
	acc := parseAccept(r.Header["Accept"])
	if !acc.json && !acc.eventStream {
		writeRPCError(w, http.StatusNotAcceptable, mcpproto.CodeInvalidRequest,
			"Not Acceptable: Accept must include application/json or text/event-stream")
		return
	}

	body, ok := h.readMessage(w, r)
	if !ok {
		return
	}
	x := new(exchange)
	fillMetadata(&x.md, r, acc)
	x.req.Metadata = &x.md
	x.req.Body = body

	active := h.admit.enter(r.Context())
	if active == nil {
		return // the client left while waiting for its turn
	}
	defer active.release()
	stream, err := h.transport.Exchange(r.Context(), &x.req)
	if err != nil {
		h.writeFailure(w, r, "exchange", err)
		return
	}
	h.relay(w, r, stream, &x.resp, "exchange")
}

// Get opens the session's server-message stream: transport.Listen, as SSE.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		// http.ServeMux routes HEAD to GET patterns; a HEAD must not open a stream.
		h.MethodNotAllowed(w, r)
		return
	}
	if !h.checkOrigin(w, r) {
		return
	}
	acc := parseAccept(r.Header["Accept"])
	if !acc.eventStream {
		writeRPCError(w, http.StatusNotAcceptable, mcpproto.CodeInvalidRequest,
			"Not Acceptable: Accept must include text/event-stream")
		return
	}
	// The stream ends when the client leaves or the server shuts down, whichever is first.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stopDrain := context.AfterFunc(h.drain, cancel)
	defer stopDrain()

	var md transportv1.RequestMetadata
	fillMetadata(&md, r, acc)
	stream, err := h.transport.Listen(ctx, &transportv1.ListenRequest{Metadata: &md})
	if err != nil {
		h.writeFailure(w, r, "listen", err)
		return
	}
	h.relay(w, r, stream, new(transportv1.ListenResponse), "listen")
}

// Delete ends a session: transport.Close.
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request) {
	if !h.checkOrigin(w, r) {
		return
	}
	var md transportv1.RequestMetadata
	fillMetadata(&md, r, parseAccept(r.Header["Accept"]))
	resp, err := h.transport.Close(r.Context(), &transportv1.CloseRequest{Metadata: &md})
	if err != nil {
		h.writeFailure(w, r, "close", err)
		return
	}
	code, ok := validStatus(resp.GetHttpStatus())
	if !ok {
		h.writeFailure(w, r, "close", fmt.Errorf("transport answered HTTP status %d", resp.GetHttpStatus()))
		return
	}
	if len(resp.GetBody()) == 0 || !bodyAllowed(code) {
		w.WriteHeader(code)
		return
	}
	writeBody(w, code, resp.GetBody())
}

// MethodNotAllowed answers methods /mcp does not serve.
func (h *Handler) MethodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, POST, DELETE")
	writeRPCError(w, http.StatusMethodNotAllowed, mcpproto.CodeInvalidRequest, "Method Not Allowed")
}

// checkOrigin answers 403 unless the Host is one this gateway serves under (DNS
// rebinding) and the Origin, when present, is the same origin or an allowed one.
func (h *Handler) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	if !h.hosts.allows(r.Host) {
		writeRPCError(w, http.StatusForbidden, mcpproto.CodeInvalidRequest, "Forbidden: Host not allowed")
		return false
	}
	if h.origins.allows(header(r.Header, "Origin"), r.Host) {
		return true
	}
	writeRPCError(w, http.StatusForbidden, mcpproto.CodeInvalidRequest, "Forbidden: Origin not allowed")
	return false
}

// writeFailure answers a transport error that came before any response head.
func (h *Handler) writeFailure(w http.ResponseWriter, r *http.Request, op string, err error) {
	if r.Context().Err() != nil {
		// The client left; there is nobody to answer.
		h.logger.DebugContext(r.Context(), "MCP client went away", "op", op, "error", err)
		return
	}
	if h.denied != nil && h.denied(w, r, err) {
		return
	}
	f := failureFor(err)
	id := errorid.New()
	h.logger.ErrorContext(r.Context(), "MCP transport call failed",
		"op", op, "error_id", id, "http_status", f.httpStatus, "error", err)
	writeRPCError(w, f.httpStatus, mcpproto.CodeInternalError, f.message+" (id "+id+")")
}

// checkJSONContentType answers 415 unless the request body is declared JSON.
func checkJSONContentType(w http.ResponseWriter, r *http.Request) bool {
	if isJSONContentType(header(r.Header, "Content-Type")) {
		return true
	}
	writeRPCError(w, http.StatusUnsupportedMediaType, mcpproto.CodeInvalidRequest,
		"Unsupported Media Type: Content-Type must be application/json")
	return false
}

// readMessage reads a POSTed message within the body limit; on failure it has
// answered (413 over the limit, 400 for a body that could not be read or is not UTF-8).
func (h *Handler) readMessage(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := readBody(http.MaxBytesReader(w, r.Body, h.maxBody), nil, r.ContentLength, h.maxBody)
	if err == nil {
		// JSON text is UTF-8 (RFC 8259 §8.1); decoders further on would replace invalid
		// bytes with U+FFFD and a tool would see text the client never sent. Checked
		// here too because the legacy /messages route answers 202 before decoding.
		if !utf8.Valid(body) {
			writeRPCError(w, http.StatusBadRequest, mcpproto.CodeParseError, "Parse error: the body is not valid UTF-8")
			return nil, false
		}
		return body, true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeBody(w, http.StatusRequestEntityTooLarge, h.tooLarge)
		return nil, false
	}
	// The client went away or sent a broken body; nobody may be listening.
	h.logger.DebugContext(r.Context(), "read MCP request body", "error", err)
	writeRPCError(w, http.StatusBadRequest, mcpproto.CodeInvalidRequest, "Bad Request: could not read the body")
	return nil, false
}

// fillMetadata copies the MCP headers the transport needs.
func fillMetadata(md *transportv1.RequestMetadata, r *http.Request, acc accepts) {
	md.SessionId = header(r.Header, "Mcp-Session-Id")
	md.ProtocolVersion = header(r.Header, "Mcp-Protocol-Version")
	md.McpMethod = header(r.Header, "Mcp-Method")
	md.McpName = header(r.Header, "Mcp-Name")
	md.LastEventId = header(r.Header, "Last-Event-Id")
	md.AcceptsJson = acc.json
	md.AcceptsEventStream = acc.eventStream
	md.ParamHeaders = paramHeaders(r.Header)
}

// paramHeaderPrefix starts the 2026-07-28 custom headers (x-mcp-header), in the
// canonical form net/http gives header names.
const paramHeaderPrefix = "Mcp-Param-"

// paramHeaders collects the Mcp-Param-{Name} headers by {Name} in lower case (nil when
// there are none, the common case): the session checks them against the arguments.
func paramHeaders(h http.Header) map[string]string {
	var out map[string]string
	for k, v := range h {
		if name, ok := strings.CutPrefix(k, paramHeaderPrefix); ok && name != "" && len(v) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[strings.ToLower(name)] = v[0]
		}
	}
	return out
}

// readBody reads r into buf, sized from Content-Length when the client sent one.
func readBody(r io.Reader, buf []byte, contentLength, limit int64) ([]byte, error) {
	if contentLength > 0 && contentLength <= limit && int64(cap(buf)) < contentLength+1 {
		// +1 so that the final Read that sees EOF needs no growth.
		buf = make([]byte, 0, contentLength+1)
	}
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// validStatus accepts the statuses a handler may write.
func validStatus(s int32) (int, bool) {
	return int(s), s >= 200 && s <= 599
}

// bodyAllowed reports whether a response with this status may carry a body.
func bodyAllowed(code int) bool {
	return code != http.StatusNoContent && code != http.StatusNotModified
}
