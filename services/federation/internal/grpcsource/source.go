// Package grpcsource serves the methods of a gRPC service as MCP tools: it reads the
// service's descriptors (server reflection or a descriptor set file), derives each
// allowed method's JSON Schemas, and implements the mesh's ProviderService so that the
// service registers like any provider. Calls are dynamic (dynamicpb and protojson):
// nothing is generated for the service.
package grpcsource

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
)

// Deps are the source's dependencies.
type Deps struct {
	// Telemetry is where logs go; its zero value discards them.
	Telemetry kit.TelemetrySettings
	// AfterReading, when set, is called after every reading of the descriptors with
	// its error (nil on success), for health reporting.
	AfterReading func(err error)
}

// Registrar is where gRPC services are registered; kit/grpcserver.Server satisfies it.
type Registrar interface {
	Register(desc *grpc.ServiceDesc, impl any)
}

// Source is one gRPC service served as tools. It implements
// providerv1.ProviderServiceServer (tools only: resources, prompts and completions
// are Unimplemented). While its lifecycle runs it reads the descriptors at start and
// again every refresh interval, and signals CatalogueChanged when they change.
type Source struct {
	providerv1.UnimplementedProviderServiceServer
	*lifecycle.Service

	settings Settings
	logger   *slog.Logger
	// afterReading is Deps.AfterReading, or a no-op.
	afterReading func(error)
	conn         *grpc.ClientConn
	// outgoing is the metadata every call carries (settings.Metadata and the values
	// of settings.MetadataFiles).
	outgoing metadata.MD
	changed  chan struct{} // a catalogue change, at most one pending
	reload   chan struct{} // a call saw Unimplemented: read the descriptors again

	mu      sync.RWMutex
	current *catalogue // nil until the first reading succeeds
	lastErr error      // the last reading's error; nil after a success
}

var _ providerv1.ProviderServiceServer = (*Source)(nil)

// New validates the settings and prepares the connection; it does not contact the
// server (grpc.NewClient connects on first use). Start the lifecycle to read the
// descriptors.
func New(s Settings, deps Deps) (*Source, error) {
	if err := s.Validate("federation.grpc[" + s.Name + "]"); err != nil {
		return nil, err
	}
	s = s.WithDefaults()
	outgoing, err := outgoingMetadata(s)
	if err != nil {
		return nil, err
	}
	creds, err := transportCredentials(s)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(s.Address,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(s.MaxMessageBytes), grpc.MaxCallSendMsgSize(s.MaxMessageBytes),
			grpc.ForceCodecV2(newGuardedCodec())),
	)
	if err != nil {
		return nil, fmt.Errorf("federation.grpc[%s]: address %q: %w", s.Name, s.Address, err)
	}
	src := &Source{
		settings: s,
		logger:   deps.Telemetry.WithDefaults().Logger.With("provider", s.Name, "grpc_address", s.Address),
		conn:     conn,
		outgoing: outgoing,
		changed:  make(chan struct{}, 1),
		reload:   make(chan struct{}, 1),

		afterReading: deps.AfterReading,
	}
	if src.afterReading == nil {
		src.afterReading = func(error) {}
	}
	src.Service = lifecycle.NewService("grpc-source-"+s.Name, lifecycle.Funcs{
		Running:  src.run,
		Stopping: func(error) error { return conn.Close() },
	})
	return src, nil
}

// Name is the provider's name in the mesh.
func (s *Source) Name() string { return s.settings.Name }

// CatalogueChanged is signalled (at most one pending signal) each time the tools
// change; a registration loop passes it on to the registry.
func (s *Source) CatalogueChanged() <-chan struct{} { return s.changed }

// Register adds the ProviderService to r.
func (s *Source) Register(r Registrar) {
	r.Register(&providerv1.ProviderService_ServiceDesc, s)
}

// Describe returns the tools of the last successful reading (none before the first).
// The version is the descriptors' fingerprint, so a changed service is a new version.
func (s *Source) Describe(context.Context, *providerv1.DescribeRequest) (*providerv1.DescribeResponse, error) {
	s.mu.RLock()
	c := s.current
	s.mu.RUnlock()
	resp := &providerv1.DescribeResponse{Name: s.settings.Name, Catalogue: &mcpv1.Catalogue{}}
	if c == nil {
		return resp, nil
	}
	resp.Version = hex.EncodeToString(c.set.Fingerprint[:6])
	for _, d := range c.defs {
		resp.Catalogue.Tools = append(resp.Catalogue.Tools, proto.CloneOf(d))
	}
	return resp, nil
}

// Ready reports, for health reporting, whether the source serves tools (a reading of
// the descriptors has succeeded) and the last reading's error (nil after a success).
// A failed reading after a good one keeps serving the last good tools.
func (s *Source) Ready() (serving bool, lastErr error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current != nil, s.lastErr
}

// lookup finds a tool of the current catalogue.
func (s *Source) lookup(name string) (*tool, *catalogue, error) {
	s.mu.RLock()
	c := s.current
	s.mu.RUnlock()
	if c == nil {
		return nil, nil, status.Errorf(codes.Unavailable, "the tools of %s are not known yet: its descriptors have not been read", s.settings.Name)
	}
	t, ok := c.tools[name]
	if !ok {
		return nil, nil, status.Errorf(codes.NotFound, "unknown tool %q", name)
	}
	return t, c, nil
}
