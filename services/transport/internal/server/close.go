package server

import (
	"context"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// Close handles a DELETE: it ends the session (the session service then ends its
// Listen streams). Every
// outcome is an HTTP answer; the RPC fails only when the caller is gone.
func (s *Server) Close(ctx context.Context, req *transportv1.CloseRequest) (*transportv1.CloseResponse, error) {
	md := req.GetMetadata()
	if f, ok := checkSessionRequest(md); !ok {
		return closeFailure(f.failure, f.data), nil
	}
	sessionID := md.GetSessionId()
	if _, err := s.session.DeleteSession(ctx, &sessionv1.DeleteSessionRequest{SessionId: sessionID}); err != nil {
		if gone := s.clientGone(ctx); gone != nil {
			return nil, gone
		}
		return closeFailure(errorOnlyStatus(s.sessionFailure(ctx, "DELETE", err)), nil), nil
	}
	return &transportv1.CloseResponse{HttpStatus: 204}, nil
}

func closeFailure(f failure, data []byte) *transportv1.CloseResponse {
	return &transportv1.CloseResponse{
		HttpStatus: int32(f.httpStatus),
		Body:       jsonrpc.AppendError(nil, nil, f.code, f.message, data),
	}
}
