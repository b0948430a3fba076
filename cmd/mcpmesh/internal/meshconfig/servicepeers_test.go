package meshconfig

import (
	"strings"
	"testing"

	federationv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/federation/v1"
)

// grpc.tls.service_peers.federation is the allow-list of the federation's upstream
// admin API, the gRPC service it names.
func TestServicePeersOfTheFederationGuardItsAdminAPI(t *testing.T) {
	c := Default()
	c.GRPC.TLS.ServicePeers = map[string][]string{TargetFederation: {"spiffe://example.org/ns/ops/sa/mesh-admin"}}
	for _, err := range c.validateTransportSecurity() {
		if strings.Contains(err.Error(), "service_peers") {
			t.Errorf("service_peers.federation refused: %v", err)
		}
	}
	got := c.AllowList().ByService[federationv1.UpstreamAdminService_ServiceDesc.ServiceName]
	if len(got) != 1 || got[0] != "spiffe://example.org/ns/ops/sa/mesh-admin" {
		t.Errorf("allow-list of %s = %v", federationv1.UpstreamAdminService_ServiceDesc.ServiceName, got)
	}
}
