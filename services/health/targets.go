package health

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/health/internal/checker"
)

// healthNames are the grpc.health.v1 service names of the mesh's own services. Other
// names are checked as the server as a whole ("").
var healthNames = map[string]string{
	"transport": "mcpmesh.transport.v1.TransportService",
	"session":   "mcpmesh.session.v1.SessionService",
	"registry":  "mcpmesh.registry.v1.RegistryService",
}

const (
	selfName    = "health"
	gatewayName = "gateway"
)

// serviceTargets turns the configured services into checks, in name order. The
// health service itself is skipped (it cannot usefully check itself), and so is a
// gateway given as a gRPC target: it serves only HTTP.
func serviceTargets(services map[string]string, logger *slog.Logger) []checker.ServiceTarget {
	targets := make([]checker.ServiceTarget, 0, len(services))
	for name, address := range services {
		switch {
		case name == selfName:
			continue
		case isHTTPURL(address):
			targets = append(targets, checker.ServiceTarget{Name: name, Address: address, HTTP: true})
		case name == gatewayName:
			logger.Info("health: gateway target is not an http URL; not checking it", slog.String("target", address))
		default:
			targets = append(targets, checker.ServiceTarget{Name: name, Address: address, HealthName: healthNames[name]})
		}
	}
	slices.SortFunc(targets, func(a, b checker.ServiceTarget) int { return strings.Compare(a.Name, b.Name) })
	return targets
}
