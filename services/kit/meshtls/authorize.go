package meshtls

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// AllowList says which peer identities may call which gRPC service of a server.
type AllowList struct {
	// Default applies to services without an entry in ByService. Empty allows every
	// peer the TLS handshake accepted.
	Default []string
	// ByService maps a full gRPC service name (mcpmesh.session.v1.SessionService) to
	// its own list, which replaces Default.
	ByService map[string][]string
}

// patternsFor is the list that applies to service, and whether one applies at all.
func (a AllowList) patternsFor(service string) []string {
	if p, ok := a.ByService[service]; ok && len(p) > 0 {
		return p
	}
	return a.Default
}

// Check authorizes a call to fullMethod ("/pkg.Service/Method") from the caller in
// ctx: Unauthenticated without a verified client certificate where a list applies,
// PermissionDenied when no identity of the certificate is on it. In-process calls and
// the grpc.health.v1 service (probes) pass.
func (a AllowList) Check(ctx context.Context, fullMethod string) error {
	service := serviceOf(fullMethod)
	if service == healthpb.Health_ServiceDesc.ServiceName {
		return nil
	}
	patterns := a.patternsFor(service)
	if len(patterns) == 0 {
		return nil
	}
	p := PeerFrom(ctx)
	switch {
	case !p.Network:
		return nil
	case len(p.Identities) == 0:
		return status.Errorf(codes.Unauthenticated, "%s needs a client certificate whose identity is allowed to call it", service)
	case !p.Matches(patterns):
		return status.Errorf(codes.PermissionDenied, "peer %s is not allowed to call %s", p.Identity(), service)
	}
	return nil
}

func serviceOf(fullMethod string) string {
	s := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

// UnaryInterceptor enforces the list on unary calls.
func (a AllowList) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := a.Check(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor enforces the list on streams.
func (a AllowList) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := a.Check(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}
