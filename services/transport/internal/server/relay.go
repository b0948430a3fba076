package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/errorid"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/streamend"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

type relayOptions struct {
	id      json.RawMessage
	framing framingFor
	// resumable streams (stateful) start with a priming event, number their SSE events
	// and carry a retry hint.
	resumable bool
	// errorStatus is the HTTP status of a JSON-RPC error that is the first event.
	errorStatus func(code int) int
}

var errNoResult = errors.New("session stream ended without a result")

// msgInputNeedsSSE answers a request that needs client input (sampling, elicitation,
// roots) from a client that accepts only application/json: the server's request can
// only travel on an event stream.
const msgInputNeedsSSE = "this request needs input from the client (sampling, elicitation or roots), which is sent on an event stream: send Accept: application/json, text/event-stream"

// relay runs one request through session.Handle and frames its events:
//   - the result or error comes first: one message, JSON (SSE when the client accepts
//     only text/event-stream);
//   - notifications come first and the client accepts SSE: an SSE head, each
//     notification, then the result; a JSON-only client gets the result alone;
//   - the session fails before anything was written: a mapped status and error body;
//     after the SSE head: a final JSON-RPC error event.
func (s *Server) relay(ctx context.Context, out sink, req *sessionv1.HandleRequest, o relayOptions) error {
	// The session stream follows ctx (Exchange's, cancelled when Exchange returns) until
	// its answer has been written; its end is then read in the background
	// (streamend.Later), so that Exchange ends with the answer.
	call := streamend.NewLater(ctx)
	defer call.End()
	events, err := s.session.Handle(call.Context(), req)
	headSent := false
	var ids *eventIDs
	startSSE := func() error {
		head := &transportv1.ResponseHead{HttpStatus: 200, Framing: transportv1.Framing_FRAMING_EVENT_STREAM}
		if o.resumable {
			head.RetryMs = s.retryMS
			ids = newEventIDs()
		}
		headSent = true
		if err := out.head(head); err != nil {
			return err
		}
		return prime(out, ids)
	}
	// final writes the one response of the request.
	final := func(status int, data []byte) error {
		if !headSent {
			if status == 200 && !o.framing.jsonOK {
				if err := startSSE(); err != nil {
					return err
				}
			} else {
				headSent = true
				if err := out.head(&transportv1.ResponseHead{HttpStatus: int32(status), Framing: transportv1.Framing_FRAMING_JSON}); err != nil {
					return err
				}
			}
		}
		return out.message(data, ids.next())
	}
	for err == nil {
		var ev *sessionv1.HandleResponse
		if ev, err = events.Recv(); err != nil {
			break
		}
		switch e := ev.GetEvent().(type) {
		case *sessionv1.HandleResponse_Notification:
			if !o.framing.sse {
				continue // a JSON-only client gets the result alone
			}
			if !headSent {
				if err := startSSE(); err != nil {
					return err
				}
			}
			data := jsonrpc.AppendNotification(nil, e.Notification.GetMethod(), e.Notification.GetParams())
			if err := out.message(data, ids.next()); err != nil {
				return err
			}
		case *sessionv1.HandleResponse_Request:
			if !o.framing.sse {
				return final(200, jsonrpc.AppendError(nil, o.id, mcpproto.CodeInternalError, msgInputNeedsSSE, nil))
			}
			if !headSent {
				if err := startSSE(); err != nil {
					return err
				}
			}
			data := jsonrpc.AppendRequest(nil, e.Request.GetId(), e.Request.GetMethod(), e.Request.GetParams())
			if err := out.message(data, ids.next()); err != nil {
				return err
			}
		case *sessionv1.HandleResponse_Result:
			defer call.ReadLater(func(ctx context.Context) { s.readEnd(ctx, events) })
			return final(200, jsonrpc.AppendResult(nil, o.id, e.Result))
		case *sessionv1.HandleResponse_Error:
			defer call.ReadLater(func(ctx context.Context) { s.readEnd(ctx, events) })
			code := int(e.Error.GetCode())
			return final(o.errorStatus(code), jsonrpc.AppendError(nil, o.id, code, e.Error.GetMessage(), e.Error.GetData()))
		}
	}
	if gone := s.clientGone(ctx); gone != nil {
		return gone
	}
	if errors.Is(err, io.EOF) {
		err = errNoResult
	}
	if !headSent && status.Code(err) == codes.PermissionDenied {
		// The session's authorization refused the call: the gateway answers it (a
		// step-up challenge for missing scopes, -32003 for a policy refusal), which
		// needs the status with its details rather than a response written here.
		return err
	}
	f := s.sessionFailure(ctx, req.GetMethod(), err)
	return final(f.httpStatus, jsonrpc.AppendError(nil, o.id, f.code, f.message, nil))
}

// readEnd reads the end of the session's stream once its answer (a result or an
// error) has arrived, so that the call ends as the session ended it rather than as
// CANCELLED by this side leaving (kit/streamend). Callers run it after writing the
// answer: in the background for a single request (relay), in turn for a batch.
func (s *Server) readEnd(ctx context.Context, events grpc.ServerStreamingClient[sessionv1.HandleResponse]) {
	if err := streamend.Read(events.Recv); err != nil && ctx.Err() == nil {
		s.logger.DebugContext(ctx, "the session's stream did not end after its answer", "error", err)
	}
}

// notify runs a notification through session.Handle and answers 202 once the session
// has taken it.
func (s *Server) notify(ctx context.Context, out sink, req *sessionv1.HandleRequest) error {
	events, err := s.session.Handle(ctx, req)
	for err == nil {
		_, err = events.Recv() // a notification has no answer: events are dropped
	}
	if !errors.Is(err, io.EOF) {
		if gone := s.clientGone(ctx); gone != nil {
			return gone
		}
		f := s.sessionFailure(ctx, req.GetMethod(), err)
		return fail(out, f.httpStatus, nil, f.code, f.message, nil)
	}
	return headOnly(out, 202)
}

// clientGone returns the gateway's cancellation when the caller has gone away, so that
// nothing more is written; nil when the stream is still wanted (our own handle timeout
// is not "gone": the client gets a 504).
func (s *Server) clientGone(ctx context.Context) error {
	if ctx.Err() == nil || errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		return nil
	}
	return status.FromContextError(ctx.Err()).Err()
}

// sessionFailure maps a session error and logs the ones the client cannot act on, with
// an error id that the client's message carries too (docs/protocol.md), so an operator
// can find the cause of the client's 503 in the log.
func (s *Server) sessionFailure(ctx context.Context, method string, err error) failure {
	f := mapSessionError(err)
	if f.httpStatus >= 500 {
		id := errorid.New()
		f.message = errorid.Append(f.message, id)
		s.logger.WarnContext(ctx, "session call failed", "mcp.method", method, "status", f.httpStatus, "error_id", id, "error", err)
	}
	return f
}
