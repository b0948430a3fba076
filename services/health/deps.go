package health

import (
	"net/http"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/health/internal/checker"
	"github.com/mcpmesh/mcpmesh/services/kit"
)

// Conns hands out client connections by target; kit/dial.Dialer satisfies it.
type Conns interface {
	Conn(target string) (grpc.ClientConnInterface, error)
}

// Registrar registers a gRPC service; kit/grpcserver.Server satisfies it.
type Registrar interface {
	Register(desc *grpc.ServiceDesc, impl any)
}

// Database is the mesh's database as the health service checks it.
type Database = checker.Database

// Deps are the health service's collaborators.
type Deps struct {
	// Telemetry is where logs go; its zero value discards them.
	Telemetry kit.TelemetrySettings
	// Conns reaches services and providers by target. Required when anything is
	// checked over gRPC.
	Conns Conns
	// Registry lists providers; nil checks no providers.
	Registry registryv1.RegistryServiceClient
	// Database, when set, is reported as a DATABASE component every round.
	Database *Database
	// HTTPClient fetches /healthz of HTTP targets; nil uses a client of the service's
	// own, whose idle connections Stop closes.
	HTTPClient *http.Client
	// Version is the binary's version, reported in every CheckResponse; empty means
	// "dev".
	Version string
}
