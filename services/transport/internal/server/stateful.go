package server

import (
	"context"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/wire"
)

// stateful serves the initialize handshake generation (2025-03-26 .. 2025-11-25).
// connectionID is set for the messages of a 2024-11-05 connection (see exchange).
func (s *Server) stateful(ctx context.Context, out sink, md *transportv1.RequestMetadata, msg *jsonrpc.Message, connectionID string) error {
	if msg.Kind == jsonrpc.KindResponse {
		return s.respond(ctx, out, md, msg)
	}
	if msg.Method == mcpproto.MethodInitialize {
		if msg.Kind != jsonrpc.KindRequest {
			return fail(out, 400, nil, mcpproto.CodeInvalidRequest, "Invalid Request: initialize must be a request with an id", nil)
		}
		return s.initialize(ctx, out, md, msg, connectionID)
	}
	if md.GetSessionId() == "" {
		return fail(out, 400, msg.ID, mcpproto.CodeInvalidRequest, msgSessionRequired, nil)
	}
	version := md.GetProtocolVersion()
	if version != "" && !mcpversion.IsStateful(version) {
		return fail(out, 400, msg.ID, mcpproto.CodeInvalidRequest, unsupportedStatefulMessage, wire.VersionData(version))
	}
	req := &sessionv1.HandleRequest{
		SessionId:       md.GetSessionId(),
		ProtocolVersion: version, // "" lets the session use the negotiated version
		Method:          msg.Method,
		Params:          msg.Params,
		Notification:    msg.Kind == jsonrpc.KindNotification,
		RequestId:       msg.ID,
	}
	if req.Notification {
		return s.notify(ctx, out, req)
	}
	return s.relay(ctx, out, req, relayOptions{
		id:          msg.ID,
		framing:     framingOf(md),
		resumable:   true,
		errorStatus: statefulErrorStatus,
	})
}

// initialize creates a session and answers with its id in the head.
func (s *Server) initialize(ctx context.Context, out sink, md *transportv1.RequestMetadata, msg *jsonrpc.Message, connectionID string) error {
	resp, err := s.session.Initialize(ctx, &sessionv1.InitializeRequest{Params: msg.Params, SessionId: connectionID})
	if err != nil {
		if gone := s.clientGone(ctx); gone != nil {
			return gone
		}
		f := s.sessionFailure(ctx, "initialize", err)
		return fail(out, f.httpStatus, msg.ID, f.code, f.message, nil)
	}
	head := &transportv1.ResponseHead{
		HttpStatus: 200,
		Framing:    transportv1.Framing_FRAMING_JSON,
		SessionId:  resp.GetSession().GetId(),
	}
	var ids *eventIDs
	if !framingOf(md).jsonOK {
		head.Framing = transportv1.Framing_FRAMING_EVENT_STREAM
		head.RetryMs = s.retryMS
		ids = newEventIDs()
	}
	if err := out.head(head); err != nil {
		return err
	}
	if err := prime(out, ids); err != nil {
		return err
	}
	return out.message(jsonrpc.AppendResult(nil, msg.ID, resp.GetResult()), ids.next())
}
