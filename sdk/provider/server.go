package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// Options describe a provider.
type Options struct {
	// Name is the provider's short stable name, unique in the mesh: 1-63 of [a-z0-9_-],
	// starting with a letter or digit. Clients see its tools as <name>.<tool>.
	Name string
	// Version is reported by Describe.
	Version string
	// Instructions, when set, are shown to clients in the server instructions.
	Instructions string
	// Logger receives the provider's own logs (failed handlers, registration); nil
	// discards them.
	Logger *slog.Logger
	// VerifyAssertion, when set, checks the caller's identity assertion (gRPC metadata
	// AssertionHeader) before every call made on behalf of a client (CallTool,
	// ReadResource, GetPrompt, Complete); a call without one, or whose assertion it
	// rejects, fails with Unauthenticated. Describe and WatchResources come from the
	// mesh itself and carry none.
	VerifyAssertion func(ctx context.Context, token string) error
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidName reports whether name is a valid provider name (see Options.Name).
func ValidName(name string) bool { return validName.MatchString(name) }

// Server implements mcpmesh.provider.v1.ProviderService for the features it holds. It
// is safe for concurrent use; features may be added and removed while it serves, and
// each change is signalled on CatalogueChanged.
type Server struct {
	providerv1.UnimplementedProviderServiceServer

	opts    Options
	logger  *slog.Logger // names the provider
	base    *slog.Logger // Options.Logger, for the registration loop, which names it itself
	cat     catalogue
	changed chan struct{} // at most one pending catalogue change
	watch   *changeFeed

	closeOnce sync.Once
	closed    chan struct{}
}

var _ providerv1.ProviderServiceServer = (*Server)(nil)

// New builds a provider offering features.
func New(opts Options, features ...Feature) (*Server, error) {
	if !ValidName(opts.Name) {
		return nil, fmt.Errorf("provider name %q must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit", opts.Name)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:    opts,
		logger:  logger.With("provider", opts.Name),
		base:    logger,
		changed: make(chan struct{}, 1),
		watch:   newChangeFeed(),
		closed:  make(chan struct{}),
	}
	var errs []error
	for _, f := range features {
		errs = append(errs, f.addTo(&s.cat))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("provider %s: %w", opts.Name, err)
	}
	return s, nil
}

// Name is the provider's name.
func (s *Server) Name() string { return s.opts.Name }

// Add offers more features and signals the catalogue change.
func (s *Server) Add(features ...Feature) error {
	var errs []error
	for _, f := range features {
		errs = append(errs, f.addTo(&s.cat))
	}
	s.signalChange()
	return errors.Join(errs...)
}

// RemoveTool withdraws a tool; false when it was not offered.
func (s *Server) RemoveTool(name string) bool { return s.signalIf(s.cat.removeTool(name)) }

// RemovePrompt withdraws a prompt; false when it was not offered.
func (s *Server) RemovePrompt(name string) bool { return s.signalIf(s.cat.removePrompt(name)) }

// RemoveResource withdraws a concrete resource; false when it was not offered.
func (s *Server) RemoveResource(uri string) bool { return s.signalIf(s.cat.removeResource(uri)) }

func (s *Server) signalIf(removed bool) bool {
	if removed {
		s.signalChange()
	}
	return removed
}

func (s *Server) signalChange() {
	select {
	case s.changed <- struct{}{}:
	default: // a change is already pending; the refresh will see this one too
	}
}

// CatalogueChanged is signalled (at most one pending signal) after each change of the
// catalogue; KeepRegistered passes it on to the registry, so that clients see the new
// catalogue and get list_changed notifications.
func (s *Server) CatalogueChanged() <-chan struct{} { return s.changed }

// Register adds the ProviderService to r (a *grpc.Server or any other registrar).
func (s *Server) Register(r grpc.ServiceRegistrar) {
	r.RegisterService(&providerv1.ProviderService_ServiceDesc, s)
}

// Close ends the WatchResources streams; call it when the provider stops.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// Describe returns the catalogue as it is now.
func (s *Server) Describe(context.Context, *providerv1.DescribeRequest) (*providerv1.DescribeResponse, error) {
	return proto.CloneOf(&providerv1.DescribeResponse{
		Name:         s.opts.Name,
		Version:      s.opts.Version,
		Instructions: s.opts.Instructions,
		Catalogue:    s.cat.snapshot(),
	}), nil
}
