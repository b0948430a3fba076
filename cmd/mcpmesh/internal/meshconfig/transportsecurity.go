package meshconfig

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
)

// GRPCServices maps the targets that serve gRPC to the service each serves, for
// grpc.tls.service_peers.
var GRPCServices = map[string]string{
	TargetSession:            "mcpmesh.session.v1.SessionService",
	TargetTransport:          "mcpmesh.transport.v1.TransportService",
	TargetRegistry:           "mcpmesh.registry.v1.RegistryService",
	TargetHealth:             "mcpmesh.health.v1.HealthService",
	TargetProviderEverything: "mcpmesh.provider.v1.ProviderService",
	// The federation's own service is its upstream admin API (its upstreams' providers
	// share ProviderService with provider-everything).
	TargetFederation: "mcpmesh.federation.v1.UpstreamAdminService",
}

// AllowList is grpc.tls's allow-list of peer identities, by gRPC service.
func (c Config) AllowList() meshtls.AllowList {
	a := meshtls.AllowList{Default: c.GRPC.TLS.AllowedPeers, ByService: map[string][]string{}}
	for target, peers := range c.GRPC.TLS.ServicePeers {
		a.ByService[GRPCServices[target]] = peers
	}
	return a
}

// validateTransportSecurity is secure by default: gRPC without TLS is refused on a
// listener that is not loopback, and to peers that are not on loopback, unless
// grpc.plaintext says a service mesh takes care of it.
func (c Config) validateTransportSecurity() []error {
	var errs []error
	if err := c.GRPC.TLS.Validate("grpc.tls"); err != nil {
		errs = append(errs, err)
	}
	for target := range c.GRPC.TLS.ServicePeers {
		if _, ok := GRPCServices[target]; !ok {
			names := make([]string, 0, len(GRPCServices))
			for n := range GRPCServices {
				names = append(names, n)
			}
			slices.Sort(names)
			errs = append(errs, fmt.Errorf("grpc.tls.service_peers.%s: unknown target (want one of %s)", target, strings.Join(names, ", ")))
		}
	}
	if c.GRPC.Plaintext {
		return errs
	}
	const how = "set grpc.tls.cert_file, grpc.tls.key_file and grpc.tls.ca_file for mutual TLS, or grpc.plaintext: true when a service mesh (Istio, Linkerd) encrypts the traffic (see docs/security.md)"
	if c.RunsGRPC() && !c.GRPC.TLS.Enabled() && !meshtls.IsLoopback(c.GRPC.Listen) {
		errs = append(errs, fmt.Errorf("grpc.listen: %s is not a loopback address and gRPC would be served in plaintext: %s", c.GRPC.Listen, how))
	}
	if !c.GRPC.TLS.ClientEnabled() {
		for _, t := range Services {
			addr := c.PeerAddress(t)
			if addr != "" && !c.Runs(t) && !dial.IsInProcess(addr) && !meshtls.IsLoopback(addr) {
				errs = append(errs, fmt.Errorf("peers.%s: %s is not a loopback address and would be called in plaintext: %s", t, addr, how))
			}
		}
	}
	return errs
}
