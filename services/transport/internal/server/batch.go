package server

import (
	"context"
	"errors"
	"io"
	"sync"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// batchVersion is the only protocol version with JSON-RPC batches: 2025-06-18 removed
// them and neither later version has them.
const batchVersion = mcpversion.V20250326

const (
	msgBatchVersion    = "Invalid Request: JSON-RPC batches are only supported for protocol version " + batchVersion
	msgBatchInitialize = "Invalid Request: initialize must not be part of a JSON-RPC batch"
)

// maxBatchConcurrency bounds the requests of one batch handled at once, so a large
// batch cannot take every session-service stream of the process.
const maxBatchConcurrency = 8

// batch serves a JSON array body. Only a stateful session that negotiated 2025-03-26
// may send one; anything else is -32600 as a whole (400, no id). Notifications and
// client responses are taken first, in order (so [initialized, request] works), then
// the requests run concurrently; the answer is one JSON array with the responses in
// request order (an event stream of that one array for a client that accepts only
// SSE), or 202 when nothing in the batch expects an answer. Progress and log
// notifications of batched requests are dropped: the array is the whole answer.
func (s *Server) batch(ctx context.Context, out sink, md *transportv1.RequestMetadata, body []byte) error {
	elems, derr := jsonrpc.SplitBatch(body)
	if derr != nil {
		return fail(out, 400, nil, derr.Code, derr.Message, nil)
	}
	if v := md.GetProtocolVersion(); v != "" && v != batchVersion {
		return fail(out, 400, nil, mcpproto.CodeInvalidRequest, msgBatchVersion, nil)
	}
	msgs := make([]jsonrpc.Message, len(elems))
	errs := make([]*jsonrpc.Error, len(elems))
	for i, elem := range elems {
		msgs[i], errs[i] = jsonrpc.DecodeElement(elem)
		if errs[i] == nil && msgs[i].Method == mcpproto.MethodInitialize {
			return fail(out, 400, nil, mcpproto.CodeInvalidRequest, msgBatchInitialize, nil)
		}
	}
	if md.GetSessionId() == "" {
		return fail(out, 400, nil, mcpproto.CodeInvalidRequest, msgSessionRequired, nil)
	}
	got, err := s.session.GetSession(ctx, &sessionv1.GetSessionRequest{SessionId: md.GetSessionId()})
	if err != nil {
		if gone := s.clientGone(ctx); gone != nil {
			return gone
		}
		f := errorOnlyStatus(s.sessionFailure(ctx, "batch", err))
		return fail(out, f.httpStatus, nil, f.code, f.message, nil)
	}
	if v := got.GetSession().GetProtocolVersion(); v != batchVersion {
		return fail(out, 400, nil, mcpproto.CodeInvalidRequest, msgBatchVersion+" (this session uses "+v+")", nil)
	}

	responses := make([][]byte, len(msgs))
	var requests []int
	for i := range msgs {
		switch {
		case errs[i] != nil:
			responses[i] = jsonrpc.AppendError(nil, errs[i].ID, errs[i].Code, errs[i].Message, nil)
		case msgs[i].Kind == jsonrpc.KindRequest:
			requests = append(requests, i)
		case msgs[i].Kind == jsonrpc.KindNotification:
			s.batchNotify(ctx, md, &msgs[i])
		default: // a client response: dropped, as outside batches
			s.logger.DebugContext(ctx, "client response in a batch accepted and dropped", "session_id", md.GetSessionId())
		}
	}
	sem := make(chan struct{}, maxBatchConcurrency)
	var wg sync.WaitGroup
	for _, i := range requests {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			responses[i] = s.batchRequest(ctx, md, &msgs[i])
		})
	}
	wg.Wait()
	if gone := s.clientGone(ctx); gone != nil {
		return gone
	}

	answered := responses[:0:0]
	for _, r := range responses {
		if r != nil {
			answered = append(answered, r)
		}
	}
	if len(answered) == 0 {
		return headOnly(out, 202)
	}
	array := jsonrpc.AppendBatch(nil, answered)
	if framingOf(md).jsonOK {
		if err := out.head(&transportv1.ResponseHead{HttpStatus: 200, Framing: transportv1.Framing_FRAMING_JSON}); err != nil {
			return err
		}
		return out.message(array, "")
	}
	// A client that takes only event streams gets the array as the one event of a
	// resumable stream, as 2025-03-26 allows ("responses MAY be batched").
	ids := newEventIDs()
	if err := out.head(&transportv1.ResponseHead{HttpStatus: 200, Framing: transportv1.Framing_FRAMING_EVENT_STREAM, RetryMs: s.retryMS}); err != nil {
		return err
	}
	if err := prime(out, ids); err != nil {
		return err
	}
	return out.message(array, ids.next())
}

// handleRequest is the session request of one batched message.
func handleRequest(md *transportv1.RequestMetadata, msg *jsonrpc.Message) *sessionv1.HandleRequest {
	return &sessionv1.HandleRequest{
		SessionId:       md.GetSessionId(),
		ProtocolVersion: md.GetProtocolVersion(),
		Method:          msg.Method,
		Params:          msg.Params,
		Notification:    msg.Kind == jsonrpc.KindNotification,
		RequestId:       msg.ID,
	}
}

// batchRequest runs one batched request and returns its response: the result or
// error, or the mapped session failure. Notifications on the way are dropped.
func (s *Server) batchRequest(ctx context.Context, md *transportv1.RequestMetadata, msg *jsonrpc.Message) []byte {
	events, err := s.session.Handle(ctx, handleRequest(md, msg))
	for err == nil {
		var ev *sessionv1.HandleResponse
		if ev, err = events.Recv(); err != nil {
			break
		}
		switch e := ev.GetEvent().(type) {
		case *sessionv1.HandleResponse_Result:
			defer s.readEnd(ctx, events)
			return jsonrpc.AppendResult(nil, msg.ID, e.Result)
		case *sessionv1.HandleResponse_Error:
			defer s.readEnd(ctx, events)
			return jsonrpc.AppendError(nil, msg.ID, int(e.Error.GetCode()), e.Error.GetMessage(), e.Error.GetData())
		}
	}
	if errors.Is(err, io.EOF) {
		err = errNoResult
	}
	f := s.sessionFailure(ctx, msg.Method, err)
	return jsonrpc.AppendError(nil, msg.ID, f.code, f.message, nil)
}

// batchNotify hands one batched notification to the session. A notification has no
// answer, so a failure is only logged.
func (s *Server) batchNotify(ctx context.Context, md *transportv1.RequestMetadata, msg *jsonrpc.Message) {
	events, err := s.session.Handle(ctx, handleRequest(md, msg))
	for err == nil {
		_, err = events.Recv()
	}
	if !errors.Is(err, io.EOF) && ctx.Err() == nil {
		s.logger.WarnContext(ctx, "batched notification failed", "mcp.method", msg.Method, "error", err)
	}
}
