// Package grpcserver sets up the gRPC server of an mcpmesh process: the ordered
// interceptor chain, grpc.health.v1, reflection, an in-process channel that serves the
// same services without a network hop, and graceful shutdown.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/stats"
)

// Settings configures a Server.
type Settings struct {
	Logger *slog.Logger
	// DefaultDeadline bounds unary calls that arrive without a deadline.
	DefaultDeadline time.Duration
	// ExtraOptions are appended to the server options (limits).
	ExtraOptions []grpc.ServerOption
	// StatsHandler instruments the server side of calls over the network
	// (kit/telemetry's GRPCServerStatsHandler: spans and rpc.server.* metrics). Nil
	// records nothing.
	StatsHandler stats.Handler
	// InProcessTelemetry records both sides of in-process calls with the same spans
	// and rpc.client.* / rpc.server.* metrics as a network hop (kit/rpcstats). Zero
	// records nothing.
	InProcessTelemetry InProcessTelemetry
}

// Server is a gRPC server plus an in-process channel serving the same services.
type Server struct {
	logger *slog.Logger
	grpc   *grpc.Server
	inproc *inprocChannel
	health *health.Server
	names  []string
}

// New builds a Server. Register services with Register before Serve.
func New(s Settings) *Server {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ic := chain{logger: logger, defaultDeadline: s.DefaultDeadline}
	opts := append([]grpc.ServerOption{
		// Chain (of one), so that ExtraOptions may add interceptors after ours.
		grpc.ChainUnaryInterceptor(ic.unary),
		grpc.ChainStreamInterceptor(ic.stream),
		// A few stream workers avoid a goroutine per stream on the hot path.
		grpc.NumStreamWorkers(4),
	}, s.ExtraOptions...)
	if s.StatsHandler != nil {
		opts = append(opts, grpc.StatsHandler(s.StatsHandler))
	}
	gs := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	ch := newInprocChannel(ic.unary, ic.stream, s.InProcessTelemetry)
	healthpb.RegisterHealthServer(ch, hs)
	return &Server{logger: logger, grpc: gs, inproc: ch, health: hs}
}

// Register adds a service to the network server and the in-process channel, and marks
// it SERVING in grpc.health.v1.
func (s *Server) Register(desc *grpc.ServiceDesc, impl any) {
	s.grpc.RegisterService(desc, impl)
	s.inproc.RegisterService(desc, impl)
	s.names = append(s.names, desc.ServiceName)
	s.health.SetServingStatus(desc.ServiceName, healthpb.HealthCheckResponse_SERVING)
}

// InProcess is a connection to the services of this process with no network hop.
func (s *Server) InProcess() grpc.ClientConnInterface { return s.inproc }

// Health is the server's grpc.health.v1 implementation, for services that report their
// own status.
func (s *Server) Health() *health.Server { return s.health }

// Serve accepts connections on lis until Shutdown. It returns nil after a shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve gRPC on %s: %w", lis.Addr(), err)
	}
	return nil
}

// SetNotServing reports NOT_SERVING for every service, so that load balancers stop
// sending new work before the server drains.
func (s *Server) SetNotServing() {
	s.health.Shutdown()
}

// Stop stops at once, without draining or a warning: for a server that never served
// (a process whose start-up failed).
func (s *Server) Stop() {
	s.SetNotServing()
	s.grpc.Stop()
}

// Shutdown drains in-flight calls until ctx ends, then stops hard.
func (s *Server) Shutdown(ctx context.Context) {
	s.SetNotServing()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.logger.Warn("gRPC drain timed out; stopping hard")
		s.grpc.Stop()
		<-done
	}
}
