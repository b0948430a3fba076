package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// How often, and how patiently, a process re-checks what its gRPC services depend on.
const (
	dependencyInterval = 250 * time.Millisecond
	dependencyTimeout  = time.Second
)

// dependencyCheck is what one gRPC service of this process needs to be useful.
type dependencyCheck struct {
	service string // grpc.health.v1 service name
	check   func(ctx context.Context) error
}

// dependencyChecks lists, per gRPC service of this process, the check its
// grpc.health.v1 status follows, so that readiness propagates along the request chain
// gateway -> transport -> session -> PostgreSQL:
//   - the session and registry services are SERVING only while their database answers;
//   - the transport is SERVING only while its session peer (here or remote) reports
//     SERVING.
//
// The gateway's /readyz already checks the transport's status, so a gateway whose
// chain cannot reach the database is not ready. Only the named services change status:
// the overall "" status, which liveness probes check, stays SERVING, so an outage of a
// dependency never gets a process restarted.
func (m *Mesh) dependencyChecks() []dependencyCheck {
	var checks []dependencyCheck
	if m.db != nil {
		ping := m.databaseReady
		for _, s := range []struct{ target, service string }{
			{meshconfig.TargetSession, sessionv1.SessionService_ServiceDesc.ServiceName},
			{meshconfig.TargetRegistry, registryv1.RegistryService_ServiceDesc.ServiceName},
		} {
			if m.cfg.Runs(s.target) {
				checks = append(checks, dependencyCheck{s.service, ping})
			}
		}
	}
	if m.cfg.Runs(meshconfig.TargetTransport) {
		target := dial.InProcessScheme
		if !m.cfg.Runs(meshconfig.TargetSession) {
			target = m.cfg.PeerAddress(meshconfig.TargetSession)
		}
		if cc, err := m.dialer.Peer(target); err == nil {
			probe := healthpb.NewHealthClient(cc)
			sessionService := sessionv1.SessionService_ServiceDesc.ServiceName
			checks = append(checks, dependencyCheck{transportv1.TransportService_ServiceDesc.ServiceName, func(ctx context.Context) error {
				resp, err := probe.Check(ctx, &healthpb.HealthCheckRequest{Service: sessionService})
				if err != nil {
					return errors.New("session peer unreachable")
				}
				if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
					return fmt.Errorf("session peer %s", s)
				}
				return nil
			}})
		}
	}
	return checks
}

// initDependencyWatch is the module that keeps the health status of each service of
// dependencyChecks in step with its check while it runs.
func (m *Mesh) initDependencyWatch() (*lifecycle.Service, error) {
	checks := m.dependencyChecks()
	if len(checks) == 0 {
		return lifecycle.NewService(moduleDependencyWatch, lifecycle.Funcs{}), nil
	}
	return lifecycle.NewService(moduleDependencyWatch, lifecycle.Funcs{
		Running: func(ctx context.Context) error {
			m.watchDependencies(ctx, checks)
			return nil
		},
	}), nil
}

// watchDependencies checks every dependency at once and then every
// dependencyInterval, until ctx ends.
func (m *Mesh) watchDependencies(ctx context.Context, checks []dependencyCheck) {
	health := m.grpcServer.Health()
	failing := make([]bool, len(checks))
	ticker := time.NewTicker(dependencyInterval)
	defer ticker.Stop()
	for {
		for i, c := range checks {
			checkCtx, cancelCheck := context.WithTimeout(ctx, dependencyTimeout)
			err := c.check(checkCtx)
			cancelCheck()
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil && !failing[i]:
				m.logger.WarnContext(ctx, "dependency down; reporting NOT_SERVING", slog.String("grpc_service", c.service), slog.Any("error", err))
				health.SetServingStatus(c.service, healthpb.HealthCheckResponse_NOT_SERVING)
			case err == nil && failing[i]:
				m.logger.InfoContext(ctx, "dependency back; reporting SERVING", slog.String("grpc_service", c.service))
				health.SetServingStatus(c.service, healthpb.HealthCheckResponse_SERVING)
			}
			failing[i] = err != nil
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
