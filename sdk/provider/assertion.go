package provider

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// AssertionHeader is the gRPC metadata key of the caller's identity assertion, which
// the mesh sends with each call it makes on behalf of a client.
const AssertionHeader = "mcpmesh-assertion"

// Assertion returns the caller's identity assertion from the incoming gRPC metadata
// ("" when there is none).
func Assertion(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, AssertionHeader); len(v) > 0 {
		return v[0]
	}
	return ""
}

// verifyAssertion applies Options.VerifyAssertion; the reason of a rejection is logged,
// not returned, so that a caller learns nothing about what the verifier checks.
func (s *Server) verifyAssertion(ctx context.Context) error {
	if s.opts.VerifyAssertion == nil {
		return nil
	}
	token := Assertion(ctx)
	if token == "" {
		return status.Error(codes.Unauthenticated, "the call carries no caller assertion ("+AssertionHeader+")")
	}
	if err := s.opts.VerifyAssertion(ctx, token); err != nil {
		s.logger.WarnContext(ctx, "caller assertion rejected", "error", err)
		return status.Error(codes.Unauthenticated, "caller assertion rejected")
	}
	return nil
}
