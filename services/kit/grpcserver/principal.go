package grpcserver

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// withPrincipal is the auth-context step of the chain: the principal a mesh peer sent
// in metadata (kit/principal) becomes the handler context's, as an in-process call's
// context already carries it. A malformed entry is refused rather than ignored, so a
// caller is never silently treated as someone else.
func withPrincipal(ctx context.Context) (context.Context, error) {
	ctx, _, err := principal.FromIncoming(ctx)
	if err != nil {
		return ctx, status.Error(codes.Unauthenticated, "malformed principal metadata")
	}
	return ctx, nil
}

// principalStream is a server stream whose context carries the principal.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s principalStream) Context() context.Context { return s.ctx }

// streamWithPrincipal returns ss with the principal of its metadata in its context;
// ss itself when there is none to add.
func streamWithPrincipal(ss grpc.ServerStream) (grpc.ServerStream, error) {
	ctx := ss.Context()
	if _, ok := principal.FromContext(ctx); ok {
		return ss, nil
	}
	pctx, err := withPrincipal(ctx)
	if err != nil || pctx == ctx {
		return ss, err
	}
	return principalStream{ServerStream: ss, ctx: pctx}, nil
}
