package dial

import (
	"context"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/kit/virtualserver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// principalOptions send the principal of a call's context to the process that serves
// it (kit/principal's metadata entry), and the virtual server the request came through
// (kit/virtualserver's), on every network connection to a service of the
// mesh (Peer), never to a provider (Conn). In-process calls
// need nothing: the context value passes through as it is.
var principalOptions = []grpc.DialOption{
	grpc.WithChainUnaryInterceptor(sendPrincipalUnary),
	grpc.WithChainStreamInterceptor(sendPrincipalStream),
}

func sendPrincipalUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	ctx, err := withPrincipal(ctx)
	if err != nil {
		return err
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

func sendPrincipalStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx, err := withPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	return streamer(ctx, desc, cc, method, opts...)
}

func withPrincipal(ctx context.Context) (context.Context, error) {
	out, err := principal.AppendToOutgoing(ctx)
	if err != nil {
		// Only a principal larger than the wire allows: a caller's claims, not the peer.
		return ctx, status.Errorf(codes.InvalidArgument, "caller identity too large to forward: %v", err)
	}
	return virtualserver.AppendToOutgoing(out), nil
}
