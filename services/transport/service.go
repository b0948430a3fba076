package transport

import (
	"errors"
	"fmt"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/server"
)

// Registrar is where services are registered; kit/grpcserver.Server satisfies it.
type Registrar interface {
	Register(desc *grpc.ServiceDesc, impl any)
}

// Deps are the transport's collaborators.
type Deps struct {
	// Telemetry is where logs go; its zero value discards them.
	Telemetry kit.TelemetrySettings
	Session   sessionv1.SessionServiceClient
}

// Service is the transport service: it serves mcpmesh.transport.v1.TransportService.
type Service struct {
	// Service is the lifecycle. The transport has no background loops (streams
	// live only as long as their RPCs), so it only has the states.
	*lifecycle.Service
	impl *server.Server
}

// New validates cfg and builds the service.
func New(cfg Config, deps Deps) (*Service, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Session == nil {
		errs = append(errs, errors.New("transport: deps.Session is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new transport service: %w", err)
	}
	return &Service{Service: lifecycle.NewService("transport", lifecycle.Funcs{}), impl: server.New(server.Settings{
		Logger:        deps.Telemetry.WithDefaults().Logger,
		Session:       deps.Session,
		RetryMS:       int32(cfg.SSERetryMS),
		HandleTimeout: cfg.HandleTimeout,
	})}, nil
}

// Register adds the TransportService to r.
func (s *Service) Register(r Registrar) {
	r.Register(&transportv1.TransportService_ServiceDesc, s.impl)
}
