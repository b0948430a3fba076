package stdio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// Limits on what the bridge reads from the mesh.
const (
	maxBodySize      = 64 << 20 // a JSON answer
	maxErrorBodySize = 64 << 10 // the body of an HTTP error
	maxResumes       = 3        // GETs with Last-Event-ID for a POST stream that broke off
)

// forward POSTs one client message and relays everything the mesh answers.
func (b *bridge) forward(work context.Context, m *message) {
	ctx, cancel := context.WithCancel(work)
	if b.timeout > 0 {
		ctx, cancel = context.WithTimeout(work, b.timeout)
	}
	defer cancel()
	if m.kind == kindRequest {
		b.track(m, cancel)
		defer b.untrack(m)
	}
	stateless := m.statelessVersion != ""
	sess := b.currentSession()
	req, err := b.newRequest(ctx, http.MethodPost, m.raw)
	if err != nil {
		b.answerError(m, fmt.Sprintf("cannot build the HTTP request: %v", err))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	switch {
	case stateless:
		setStatelessHeaders(req.Header, m)
		if m.method == mcpproto.MethodToolsCall && m.hasName {
			b.params.apply(req.Header, m.name, m.arguments)
		}
	case m.method != mcpproto.MethodInitialize:
		setSessionHeaders(req.Header, sess)
	default:
		sess = sessionState{} // initialize opens a new session
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.answerError(m, b.describe(ctx, work, err))
		return
	}
	defer closeBody(resp)

	switch {
	case resp.StatusCode == http.StatusNotFound && !stateless && sess.id != "":
		// Terminated or unknown session: say so to the client, then end.
		b.relayHTTPError(m, resp, false)
		b.endSession(sess.id)
		return
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		b.relayHTTPError(m, resp, !stateless && sess.version == "" && m.method != mcpproto.MethodInitialize)
		return
	}
	if m.method == mcpproto.MethodInitialize && !stateless {
		sess = sessionState{id: resp.Header.Get(headerSessionID)}
	}
	answered, lastEventID, err := b.relayBody(ctx, m, resp, sess)
	if m.kind != kindRequest && m.kind != kindBatch && m.kind != kindInvalid {
		if err != nil {
			b.log.Warn("reading the mesh's answer to a notification failed", "method", m.method, "error", err)
		}
		if m.method == mcpproto.NotificationInitialized && !stateless {
			b.startListener(sess)
		}
		return
	}
	if answered || b.wasCancelled(m) {
		return
	}
	if !stateless && lastEventID != "" && sess.id != "" && ctx.Err() == nil {
		if b.resume(ctx, m, sess, lastEventID) {
			return
		}
	}
	switch {
	case err != nil:
		b.answerError(m, b.describe(ctx, work, err))
	case resp.StatusCode == http.StatusAccepted || isEmptyBody(resp):
		b.answerError(m, fmt.Sprintf("the mesh answered HTTP %s without a response", resp.Status))
	default:
		b.answerError(m, "the mesh ended the stream before sending the response")
	}
}

// relayBody writes the messages of a 2xx answer to the client. It reports whether the
// answer to m was among them and the last SSE event id seen.
func (b *bridge) relayBody(ctx context.Context, m *message, resp *http.Response, sess sessionState) (answered bool, lastEventID string, err error) {
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		body, err := readLimited(resp.Body, maxBodySize)
		if err != nil {
			return false, "", fmt.Errorf("read the mesh's answer: %w", err)
		}
		return b.deliver(m, body, sess), "", nil
	case "text/event-stream":
		var retry time.Duration
		answered, err := b.pump(ctx, resp.Body, m, sess, &lastEventID, &retry)
		return answered, lastEventID, err
	case "":
		return false, "", nil
	default:
		return false, "", fmt.Errorf("the mesh answered with Content-Type %q", mediaType)
	}
}

// pump relays server-sent events until the stream ends. With m set it stops after the
// answer to m; lastEventID and retry follow the stream's id and retry fields.
func (b *bridge) pump(ctx context.Context, body io.Reader, m *message, sess sessionState, lastEventID *string, retry *time.Duration) (answered bool, err error) {
	events := newSSEReader(body)
	for {
		ev, err := events.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, err
		}
		if ev.hasID {
			*lastEventID = ev.id
		}
		if ev.hasRetry {
			*retry = ev.retry
		}
		if b.deliver(m, ev.data, sess) {
			return true, nil
		}
	}
}

// deliver writes one message from the mesh to the client and reports whether it is
// the answer to m (nil m: a GET stream, nothing is awaited). The answer to a stateful
// initialize opens the session before the client sees it, so that the client's next
// message already carries the session.
func (b *bridge) deliver(m *message, data []byte, sess sessionState) (answered bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return false // e.g. the priming event
	}
	if m != nil {
		switch m.kind {
		case kindRequest:
			var r reply
			if json.Unmarshal(data, &r) == nil && r.isResponse() && bytes.Equal(compact(r.ID), m.id) {
				answered = true
				if m.method == mcpproto.MethodInitialize && m.statelessVersion == "" && r.Result != nil {
					b.openSession(sessionState{id: sess.id, version: r.Result.ProtocolVersion})
				}
				if m.method == "tools/list" && m.statelessVersion != "" && r.Result != nil {
					data = b.learnParamHeaders(data)
				}
			}
		case kindBatch, kindInvalid:
			answered = true
		}
	}
	if err := b.out.write(data); err != nil && errors.Is(err, errInvalidJSON) {
		b.log.Warn("dropped a message from the mesh that is not JSON", "error", err)
	}
	return answered
}

// relayHTTPError answers a non-2xx status: a JSON-RPC error body goes to the client
// as it is (with the request's id when it had none); anything else becomes -32603
// naming the status. For notifications and responses the failure is logged. A
// stateful request sent before initialize (beforeInit) that the mesh refused for its
// missing session header gets an answer that says to initialize instead: the header is
// an HTTP detail a stdio client cannot act on.
func (b *bridge) relayHTTPError(m *message, resp *http.Response, beforeInit bool) {
	body, _ := readLimited(resp.Body, maxErrorBodySize)
	if beforeInit && m.kind == kindRequest && resp.StatusCode == http.StatusBadRequest && bytes.Contains(body, []byte(headerSessionID)) {
		b.answerBeforeInitialize(m)
		return
	}
	var e struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   json.RawMessage `json:"error"`
	}
	isRPCError := json.Unmarshal(body, &e) == nil && len(e.Error) > 0 && e.Error[0] == '{'
	switch m.kind {
	case kindNotification, kindResponse:
		b.log.Warn("the mesh rejected a message", "method", m.method, "http_status", resp.StatusCode, "body", clip(body))
		return
	case kindRequest:
		if isRPCError {
			if !isID(e.ID) {
				body, _ = json.Marshal(rpcError{JSONRPC: "2.0", ID: m.id, Error: e.Error})
			}
			b.writeUnlessCancelled(m, body)
			return
		}
	case kindBatch, kindInvalid:
		if isRPCError || (json.Valid(body) && bytes.HasPrefix(bytes.TrimSpace(body), []byte("["))) {
			_ = b.out.write(body)
			return
		}
	}
	msg := "the mesh answered HTTP " + resp.Status
	if s := clip(body); s != "" {
		msg += ": " + s
	}
	b.answerError(m, msg)
}

// answerBeforeInitialize answers a stateful request the mesh refused because it came
// before initialize, with Invalid Request saying what to send first.
func (b *bridge) answerBeforeInitialize(m *message) {
	e, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{mcpproto.CodeInvalidRequest, "mcpmesh stdio: " + m.method + " before initialize: send initialize first (or name a stateless protocol version in _meta)"})
	out, _ := json.Marshal(rpcError{JSONRPC: "2.0", ID: m.id, Error: e})
	b.writeUnlessCancelled(m, out)
}

// rpcError is a JSON-RPC error response.
type rpcError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Error   json.RawMessage `json:"error"`
}

// answerError tells the client that m failed on the way to the mesh: a -32603 error
// for each request it carried, or a log line for a notification or response.
func (b *bridge) answerError(m *message, text string) {
	switch m.kind {
	case kindNotification, kindResponse:
		b.log.Warn("forwarding a message failed", "method", m.method, "error", text)
		return
	}
	// The client sees where the error comes from; the bridge's own log does not need it.
	text = "mcpmesh stdio: " + text
	switch m.kind {
	case kindRequest:
		b.writeUnlessCancelled(m, errorResponse(m.id, text))
	case kindBatch:
		for _, id := range m.batchIDs {
			_ = b.out.write(errorResponse(id, text))
		}
	case kindInvalid:
		_ = b.out.write(errorResponse(nil, text))
	}
}

func errorResponse(id json.RawMessage, text string) []byte {
	e, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{mcpproto.CodeInternalError, text})
	out, _ := json.Marshal(rpcError{JSONRPC: "2.0", ID: id, Error: e})
	return out
}

// writeUnlessCancelled writes an answer to m unless the client already gave m up.
func (b *bridge) writeUnlessCancelled(m *message, msg []byte) {
	if b.wasCancelled(m) {
		return
	}
	_ = b.out.write(msg)
}

// describe explains a failed HTTP exchange to the client.
func (b *bridge) describe(ctx, work context.Context, err error) string {
	switch {
	case work.Err() != nil:
		return "the bridge is shutting down"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("no answer from the mesh within %s (-timeout)", b.timeout)
	case ctx.Err() != nil:
		return "the request was cancelled"
	}
	var urlErr interface{ Timeout() bool }
	if errors.As(err, &urlErr) && urlErr.Timeout() {
		return fmt.Sprintf("the mesh at %s timed out: %v", b.endpoint, err)
	}
	return fmt.Sprintf("cannot reach the mesh at %s: %v", b.endpoint, unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var u interface{ Unwrap() error }
	if errors.As(err, &u) && strings.HasPrefix(err.Error(), "Post ") {
		if inner := u.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// newRequest builds a request to the endpoint with the user's extra headers.
func (b *bridge) newRequest(ctx context.Context, method string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.endpoint, r)
	if err != nil {
		return nil, err
	}
	for k, vs := range b.headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	return req, nil
}

func setSessionHeaders(h http.Header, s sessionState) {
	if s.id != "" {
		h.Set(headerSessionID, s.id)
	}
	if s.version != "" {
		h.Set(headerProtocolVersion, s.version)
	}
}

// track registers a request in flight so that notifications/cancelled can find it.
func (b *bridge) track(m *message, cancel context.CancelFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending[string(m.id)] = &inflightRequest{cancel: cancel, stateless: m.statelessVersion != ""}
}

func (b *bridge) untrack(m *message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.pending, string(m.id))
}

func (b *bridge) wasCancelled(m *message) bool {
	if m.kind != kindRequest {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	req := b.pending[string(m.id)]
	return req != nil && req.cancelled
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return body, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("answer larger than %d bytes", limit)
	}
	return body, nil
}

func isEmptyBody(resp *http.Response) bool {
	return resp.ContentLength == 0 || resp.Header.Get("Content-Type") == ""
}

// closeBody closes an answer's body. It does not drain it: an event stream may stay
// open after the answer it carried.
func closeBody(resp *http.Response) { _ = resp.Body.Close() }

// clip shortens an HTTP error body to one line for messages and logs.
func clip(body []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// learnParamHeaders remembers the x-mcp-header annotations of a tools/list answer.
// Tools with invalid annotations are left out of the answer, as the 2026-07-28
// transport requires of HTTP clients.
func (b *bridge) learnParamHeaders(answer []byte) []byte {
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(answer, &r) != nil {
		return answer
	}
	invalid := b.params.learn(r.Result)
	if len(invalid) == 0 {
		return answer
	}
	for _, tool := range invalid {
		b.log.Warn("leaving out a tool with an invalid x-mcp-header annotation", "tool", tool)
	}
	if out, err := withoutTools(answer, invalid); err == nil {
		return out
	}
	return answer
}

// withoutTools removes the named tools from a tools/list answer, keeping every other
// field as it was.
func withoutTools(answer []byte, names []string) ([]byte, error) {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(answer, &msg); err != nil {
		return nil, err
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(msg["result"], &result); err != nil {
		return nil, err
	}
	var tools []json.RawMessage
	if err := json.Unmarshal(result["tools"], &tools); err != nil {
		return nil, err
	}
	kept := tools[:0]
	for _, t := range tools {
		var tool struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(t, &tool) == nil && slices.Contains(names, tool.Name) {
			continue
		}
		kept = append(kept, t)
	}
	var err error
	if result["tools"], err = json.Marshal(kept); err != nil {
		return nil, err
	}
	if msg["result"], err = json.Marshal(result); err != nil {
		return nil, err
	}
	return json.Marshal(msg)
}
