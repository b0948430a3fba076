package server

import (
	"context"
	"encoding/json"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// respond hands a client's answer to a server-to-client request to the session
// service, which delivers it to the replica waiting for it. The client gets 202 once
// the answer is taken; an answer nobody waits for (unknown id, already answered,
// request cancelled) is logged and also gets 202, since the client can do nothing
// about it. A missing session is 404, as for any other message.
func (s *Server) respond(ctx context.Context, out sink, md *transportv1.RequestMetadata, msg *jsonrpc.Message) error {
	if md.GetSessionId() == "" {
		return fail(out, 400, nil, mcpproto.CodeInvalidRequest, msgSessionRequired, nil)
	}
	if msg.ID == nil {
		// An error response without an id answers nothing we can find.
		s.logger.InfoContext(ctx, "client error response without an id ignored", "error_object", string(msg.Error))
		return headOnly(out, 202)
	}
	req := &sessionv1.RespondRequest{SessionId: md.GetSessionId(), RequestId: msg.ID}
	if msg.Result != nil {
		req.Outcome = &sessionv1.RespondRequest_Result{Result: msg.Result}
	} else {
		req.Outcome = &sessionv1.RespondRequest_Error{Error: clientError(msg.Error)}
	}
	resp, err := s.session.Respond(ctx, req)
	if err == nil {
		if !resp.GetDelivered() {
			s.logger.InfoContext(ctx, "answer to an unknown server request ignored", "request_id", string(msg.ID))
		}
		return headOnly(out, 202)
	}
	if gone := s.clientGone(ctx); gone != nil {
		return gone
	}
	f := s.sessionFailure(ctx, "response", err)
	return fail(out, errorOnlyStatus(f).httpStatus, nil, f.code, f.message, nil)
}

// clientError reads a JSON-RPC error object leniently: a client's malformed error is
// still an answer (a refusal), passed on with what could be read.
func clientError(raw json.RawMessage) *sessionv1.Error {
	var e struct {
		Code    int32           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(raw, &e)
	if e.Message == "" {
		e.Message = "client error"
	}
	return &sessionv1.Error{Code: e.Code, Message: e.Message, Data: e.Data}
}
