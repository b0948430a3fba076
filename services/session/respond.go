package session

import (
	"context"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/session/internal/pending"
)

// Respond delivers a client's answer to the request that waits for it, on whichever
// replica that is.
func (s *Service) Respond(ctx context.Context, req *sessionv1.RespondRequest) (*sessionv1.RespondResponse, error) {
	resp, err := s.respond(ctx, req)
	return resp, s.toStatus(ctx, methodRespond, err)
}

func (s *Service) respond(ctx context.Context, req *sessionv1.RespondRequest) (*sessionv1.RespondResponse, error) {
	id := req.GetSessionId()
	if id == "" {
		return nil, public(errInvalidRequest, "session_id is required")
	}
	if len(req.GetRequestId()) == 0 {
		return nil, public(errInvalidRequest, "request_id is required")
	}
	if _, err := s.loadSession(ctx, id); err != nil {
		return nil, err
	}
	var answer pending.Answer
	switch o := req.GetOutcome().(type) {
	case *sessionv1.RespondRequest_Result:
		answer.Result = o.Result
	case *sessionv1.RespondRequest_Error:
		answer.Error = &pending.Error{Code: o.Error.GetCode(), Message: o.Error.GetMessage(), Data: o.Error.GetData()}
	default:
		return nil, public(errInvalidRequest, "a result or an error is required")
	}
	delivered, err := s.backend.Pending.Deliver(ctx, id, req.GetRequestId(), answer)
	if err != nil {
		return nil, err
	}
	return &sessionv1.RespondResponse{Delivered: delivered}, nil
}
