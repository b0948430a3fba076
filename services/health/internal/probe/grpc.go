package probe

import (
	"context"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// GRPC asks conn's grpc.health.v1 about service. With fallbackToServer, a server
// that does not know service (NOT_FOUND) or does not name services (UNIMPLEMENTED) is
// asked again about each of fallbacks in turn, then about the server as a whole ("").
func (p Prober) GRPC(ctx context.Context, conn grpc.ClientConnInterface, service string, fallbackToServer bool, fallbacks ...string) Outcome {
	wakeFromBackoff(ctx, conn)
	client := healthpb.NewHealthClient(conn)
	// Fail fast even on a connection that waits for a ready transport by default (the
	// mesh's peer connections do): a closed port is "connection refused", not a timeout.
	failFast := grpc.WaitForReady(false)
	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: service}, failFast)
	if fallbackToServer && service != "" {
		for _, next := range append(slices.Clip(fallbacks), "") {
			if c := status.Code(err); c != codes.NotFound && c != codes.Unimplemented {
				break
			}
			resp, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: next}, failFast)
		}
	}
	if err != nil {
		return notServing(Describe(ctx, err, p.Budget))
	}
	if resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
		return Serving
	}
	return notServing(resp.GetStatus().String())
}

// connectivityConn is what a *grpc.ClientConn offers beyond ClientConnInterface.
type connectivityConn interface {
	GetState() connectivity.State
	ResetConnectBackoff()
	WaitForStateChange(ctx context.Context, from connectivity.State) bool
}

// wakeFromBackoff makes a connection that failed before try again now. Without it a
// restarted service would look down until gRPC's reconnect backoff (up to two minutes)
// ends; waiting for the state to leave TRANSIENT_FAILURE makes the next call see the
// fresh attempt rather than the old error.
func wakeFromBackoff(ctx context.Context, conn grpc.ClientConnInterface) {
	cc, ok := conn.(connectivityConn)
	if !ok || cc.GetState() != connectivity.TransientFailure {
		return
	}
	cc.ResetConnectBackoff()
	cc.WaitForStateChange(ctx, connectivity.TransientFailure)
}
