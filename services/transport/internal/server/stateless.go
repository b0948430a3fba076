package server

import (
	"context"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/wire"
)

// stateless serves the 2026-07-28 generation: no session, headers checked against the
// body, version and capabilities in _meta. The Mcp-Session-Id header is ignored and
// never echoed.
func (s *Server) stateless(ctx context.Context, out sink, md *transportv1.RequestMetadata, msg *jsonrpc.Message, params wire.Params) error {
	if msg.Kind == jsonrpc.KindResponse {
		return fail(out, 400, nil, mcpproto.CodeInvalidRequest, "Invalid Request: clients must not send responses in the stateless protocol", nil)
	}
	notification := msg.Kind == jsonrpc.KindNotification
	if f := wire.CheckStateless(msg.Method, notification, params, wire.StatelessHeaders{
		ProtocolVersion: md.GetProtocolVersion(),
		Method:          md.GetMcpMethod(),
		Name:            md.GetMcpName(),
	}); f != nil {
		return fail(out, f.HTTPStatus, msg.ID, f.Code, f.Message, f.Data)
	}
	req := &sessionv1.HandleRequest{
		ProtocolVersion: md.GetProtocolVersion(),
		Method:          msg.Method,
		Params:          msg.Params,
		Notification:    notification,
		RequestId:       msg.ID,
		ParamHeaders:    md.GetParamHeaders(), // checked by the session, which knows the tool's schema
	}
	if notification {
		return s.notify(ctx, out, req)
	}
	return s.relay(ctx, out, req, relayOptions{
		id:          msg.ID,
		framing:     framingOf(md),
		errorStatus: statelessErrorStatus,
	})
}
