package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

// Defaults of Serve and Run.
const (
	// DefaultLease is the registration lease a provider asks for; it heartbeats at a
	// third of it.
	DefaultLease = 30 * time.Second
	// DefaultListen is where Run listens when MCPMESH_GRPC_LISTEN is not set.
	DefaultListen = "127.0.0.1:0"
	// shutdownGrace bounds the graceful stop; calls still running then are cut.
	shutdownGrace = 10 * time.Second
)

// Environment variables that Run reads: those of the mesh's own configuration keys
// (grpc.listen, peers.registry, provider.advertise, provider.lease), so that a provider
// is configured like the built-in one (-target=provider-everything).
const (
	EnvListen    = "MCPMESH_GRPC_LISTEN"        // address to listen on (default DefaultListen)
	EnvRegistry  = "MCPMESH_PEERS_REGISTRY"     // the mesh registry's gRPC address (required)
	EnvAdvertise = "MCPMESH_PROVIDER_ADVERTISE" // address the mesh dials (default: the listener's)
	EnvLease     = "MCPMESH_PROVIDER_LEASE"     // registration lease, a Go duration (default DefaultLease)
)

// ServeOptions tune Serve.
type ServeOptions struct {
	// Registry is the mesh registry's gRPC address; empty serves without registering
	// (the mesh then needs the provider in its static configuration).
	Registry string
	// Advertise is the address the mesh dials to reach the provider; empty means the
	// listener's address (set it when listening on 0.0.0.0).
	Advertise string
	// Lease is the registration lease (default DefaultLease, at least 1s).
	Lease time.Duration
	// ServerOptions configure the gRPC server (TLS credentials, interceptors).
	ServerOptions []grpc.ServerOption
	// DialOptions configure the connection to the registry (default plaintext).
	DialOptions []grpc.DialOption
}

// Serve serves the provider and gRPC health on lis, registered with the registry when
// opts.Registry is set, until ctx ends; then it reports NOT_SERVING, deregisters, ends
// the WatchResources streams and stops gracefully (calls still running after
// shutdownGrace are cut). It returns nil after a stop that ctx asked for.
func (s *Server) Serve(ctx context.Context, lis net.Listener, opts ServeOptions) error {
	if opts.Lease == 0 {
		opts.Lease = DefaultLease
	}
	if opts.Registry != "" && opts.Lease < time.Second {
		return fmt.Errorf("serve provider %s: the registration lease must be at least 1s, got %s", s.opts.Name, opts.Lease)
	}
	srv := grpc.NewServer(opts.ServerOptions...)
	s.Register(srv)
	hs := health.NewServer()
	hs.SetServingStatus(providerv1.ProviderService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	registered := make(chan error, 1)
	regCtx, stopRegistration := context.WithCancel(ctx)
	defer stopRegistration()
	if opts.Registry == "" {
		registered <- nil
	} else {
		go func() { registered <- s.keepRegistered(regCtx, lis, opts) }()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("serve provider %s: %w", s.opts.Name, err)
	}
	hs.Shutdown() // NOT_SERVING: the mesh stops sending new calls
	stopRegistration()
	err = errors.Join(err, <-registered)
	s.Close()
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(shutdownGrace):
		srv.Stop()
		<-stopped
	}
	return err
}

// keepRegistered dials the registry and keeps the provider registered until ctx ends.
func (s *Server) keepRegistered(ctx context.Context, lis net.Listener, opts ServeOptions) error {
	dial := opts.DialOptions
	if len(dial) == 0 {
		dial = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	conn, err := grpc.NewClient(opts.Registry, dial...)
	if err != nil {
		return fmt.Errorf("connect to the registry at %s: %w", opts.Registry, err)
	}
	defer func() { _ = conn.Close() }()
	advertise := opts.Advertise
	if advertise == "" {
		advertise = lis.Addr().String()
	}
	return KeepRegisteredWatching(ctx, registryv1.NewRegistryServiceClient(conn), s.opts.Name, advertise, opts.Lease, s.base, s.changed)
}

// Run is the whole life of a provider process: it listens on MCPMESH_GRPC_LISTEN,
// registers with the registry at MCPMESH_PEERS_REGISTRY (advertising
// MCPMESH_PROVIDER_ADVERTISE, asking for MCPMESH_PROVIDER_LEASE) and serves until ctx
// ends (use signal.NotifyContext for SIGINT and SIGTERM).
func (s *Server) Run(ctx context.Context) error {
	opts := ServeOptions{Registry: os.Getenv(EnvRegistry), Advertise: os.Getenv(EnvAdvertise)}
	if opts.Registry == "" {
		return fmt.Errorf("%s is not set: it is the mesh registry's gRPC address (the mesh's grpc.listen, 127.0.0.1:9090 by default)", EnvRegistry)
	}
	if v := os.Getenv(EnvLease); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return fmt.Errorf("%s=%q: want a duration of at least 1s, such as 30s", EnvLease, v)
		}
		opts.Lease = d
	}
	addr := os.Getenv(EnvListen)
	if addr == "" {
		addr = DefaultListen
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.logger.InfoContext(ctx, "provider serving", "address", lis.Addr().String(), "registry", opts.Registry)
	return s.Serve(ctx, lis, opts)
}
